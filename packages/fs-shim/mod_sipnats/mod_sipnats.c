/*
 * mod_sipnats: FreeSWITCH module connecting FreeSWITCH to sipnats over NATS (libsipnats).
 *
 * - Config: sipnats.conf.xml (<settings><param name=".." value=".."/>), names matched exactly.
 * - NATS callbacks only enqueue into the core's bounded queue (drop-and-count when full); one
 *   worker thread (a FreeSWITCH thread) drains it and performs the actions through the ops table.
 * - offer-mode originate: a call.offer originates a leg (dial-string) and runs offer-application on
 *   it; offer-mode bridge: a call.offer becomes a `bridge` command (request/reply, from a pool
 *   thread) that has the ua call bridge-target, this FreeSWITCH's own sofia profile, with
 *   X-Sipnats-Call: <call>; the dialplan runs on the channel that INVITE creates.
 * - Channel events (CHANNEL_CREATE / PROGRESS / PROGRESS_MEDIA / ANSWER / HANGUP / DTMF) of
 *   channels tied to a sipnats call (variable sipnats_call, else sip_h_X-Sipnats-Call) are published
 *   as ChannelEvents; those of legs the module originated also as call commands.
 * - API: sipnats status | publish <subject> <data> | command <action> <json> | reload
 * - Shutdown order: unbind events, stop and join the worker, drain NATS, destroy client, core.
 *
 * Built against FreeSWITCH 1.10 headers (pkg-config freeswitch).
 */
#include <switch.h>

#include "libsipnats.h"
#include "sipnats.h"
#include "sipnats_core.h"

SWITCH_MODULE_LOAD_FUNCTION(mod_sipnats_load);
SWITCH_MODULE_SHUTDOWN_FUNCTION(mod_sipnats_shutdown);
SWITCH_MODULE_DEFINITION(mod_sipnats, mod_sipnats_load, mod_sipnats_shutdown, NULL);

#define SIPNATS_CONF "sipnats.conf"
#define MAX_PARAM 1024
#define DRAIN_TIMEOUT_MS 5000
#define COMMAND_TIMEOUT_MS 5000
#define JOB_WAIT_WARN_MS 2000

typedef struct sipnats_config {
    char servers[MAX_PARAM];
    char name[128];
    char credentials[MAX_PARAM];
    char user[256];
    char password[256];
    char token[MAX_PARAM];
    int tls;
    int send_asap;
    char ca_file[MAX_PARAM];
    int max_reconnect;
    int reconnect_wait_ms;
    int reconnect_jitter_ms;
    char prefix[SIPNATS_MAX_PREFIX_LEN + 1];
    char node_id[SIPNATS_MAX_TOKEN_LEN + 1];
    char queue_group[129];
    char dial_string[MAX_PARAM];
    int offer_mode; /* SIPNATS_OFFER_ORIGINATE | SIPNATS_OFFER_BRIDGE */
    char bridge_target[MAX_PARAM];
    int bridge_timeout_s;
    char offer_app[128];
    char offer_app_args[MAX_PARAM];
    int auto_answer;
    int originate_timeout;
    int queue_capacity;
    int max_calls;
    int publish_create, publish_progress, publish_progress_media, publish_answer, publish_hangup,
        publish_dtmf;
} sipnats_config;

static struct {
    switch_memory_pool_t *pool;
    switch_mutex_t *lifecycle_mutex; /* serialises start/stop (load, reload, unload) */
    sipnats_config cfg;
    sipnats_client *client;
    sipnats_core *core;
    switch_thread_t *worker;
    switch_atomic_t running;         /* 1 while the worker should run */
    switch_event_node_t *nodes[6];
    switch_atomic_t jobs;             /* originate and bridge request threads in flight */
    switch_call_cause_t cancel_cause; /* set on stop: aborts originates in flight */
} globals;

/* ---- configuration ---------------------------------------------------------------------- */

static void config_defaults(sipnats_config *c)
{
    memset(c, 0, sizeof(*c));
    switch_copy_string(c->servers, "nats://127.0.0.1:4222", sizeof(c->servers));
    switch_copy_string(c->name, "mod_sipnats", sizeof(c->name));
    switch_copy_string(c->prefix, SIPNATS_DEFAULT_PREFIX, sizeof(c->prefix));
    switch_copy_string(c->queue_group, "freeswitch", sizeof(c->queue_group));
    switch_copy_string(c->dial_string, "loopback/${to_user}/default", sizeof(c->dial_string));
    switch_copy_string(c->offer_app, "park", sizeof(c->offer_app));
    c->max_reconnect = SIPNATS_RECONNECT_FOREVER;
    c->reconnect_wait_ms = 2000;
    c->reconnect_jitter_ms = 100;
    c->originate_timeout = 60;
    c->send_asap = 1;
    c->queue_capacity = 1024;
    c->max_calls = 1024;
    c->publish_create = c->publish_progress = c->publish_progress_media = c->publish_answer = 1;
    c->publish_hangup = c->publish_dtmf = 1;
}

static int parse_int(const char *name, const char *val, int min, int max, int *out)
{
    char *end = NULL;
    long v = strtol(val, &end, 10);
    if (end == val || *end != '\0' || v < min || v > max) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
                          "sipnats: param %s: '%s' is not an integer in [%d, %d]\n", name, val, min, max);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int copy_param(const char *name, const char *val, char *dst, size_t size)
{
    if (strlen(val) >= size) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: param %s too long\n", name);
        return 0;
    }
    switch_copy_string(dst, val, size);
    return 1;
}

/* Comma-separated event names, each matched exactly. */
static int parse_events(const char *v, sipnats_config *c)
{
    char buf[MAX_PARAM], *save = NULL;
    int ok = 1;
    if (strlen(v) >= sizeof(buf))
        return 0;
    switch_copy_string(buf, v, sizeof(buf));
    c->publish_create = c->publish_progress = c->publish_progress_media = c->publish_answer = 0;
    c->publish_hangup = c->publish_dtmf = 0;
    for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(tok, "CHANNEL_CREATE")) c->publish_create = 1;
        else if (!strcmp(tok, "CHANNEL_PROGRESS")) c->publish_progress = 1;
        else if (!strcmp(tok, "CHANNEL_PROGRESS_MEDIA")) c->publish_progress_media = 1;
        else if (!strcmp(tok, "CHANNEL_ANSWER")) c->publish_answer = 1;
        else if (!strcmp(tok, "CHANNEL_HANGUP")) c->publish_hangup = 1;
        else if (!strcmp(tok, "DTMF")) c->publish_dtmf = 1;
        else {
            switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: unknown event '%s' in publish-events\n", tok);
            ok = 0;
        }
    }
    return ok;
}

static int parse_offer_mode(const char *v, int *out)
{
    if (!strcmp(v, "originate")) *out = SIPNATS_OFFER_ORIGINATE;
    else if (!strcmp(v, "bridge")) *out = SIPNATS_OFFER_BRIDGE;
    else {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: param offer-mode: '%s' is not originate or bridge\n", v);
        return 0;
    }
    return 1;
}

/* Names are matched exactly (no prefix matching); an unknown name is an error. */
static switch_status_t load_config(sipnats_config *c)
{
    switch_xml_t cfg, xml, settings, param;
    int ok = 1;
    config_defaults(c);
    if (!(xml = switch_xml_open_cfg(SIPNATS_CONF, &cfg, NULL))) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: open of %s failed\n", SIPNATS_CONF);
        return SWITCH_STATUS_FALSE;
    }
    if ((settings = switch_xml_child(cfg, "settings"))) {
        for (param = switch_xml_child(settings, "param"); param; param = param->next) {
            const char *n = switch_xml_attr_soft(param, "name");
            const char *v = switch_xml_attr_soft(param, "value");
            if (!strcmp(n, "servers")) ok &= copy_param(n, v, c->servers, sizeof(c->servers));
            else if (!strcmp(n, "connection-name")) ok &= copy_param(n, v, c->name, sizeof(c->name));
            else if (!strcmp(n, "credentials-file")) ok &= copy_param(n, v, c->credentials, sizeof(c->credentials));
            else if (!strcmp(n, "user")) ok &= copy_param(n, v, c->user, sizeof(c->user));
            else if (!strcmp(n, "password")) ok &= copy_param(n, v, c->password, sizeof(c->password));
            else if (!strcmp(n, "token")) ok &= copy_param(n, v, c->token, sizeof(c->token));
            else if (!strcmp(n, "tls")) c->tls = switch_true(v);
            else if (!strcmp(n, "send-asap")) c->send_asap = switch_true(v);
            else if (!strcmp(n, "tls-ca-file")) ok &= copy_param(n, v, c->ca_file, sizeof(c->ca_file));
            else if (!strcmp(n, "max-reconnect")) ok &= parse_int(n, v, -1, 1000000, &c->max_reconnect);
            else if (!strcmp(n, "reconnect-wait-ms")) ok &= parse_int(n, v, 0, 3600000, &c->reconnect_wait_ms);
            else if (!strcmp(n, "reconnect-jitter-ms")) ok &= parse_int(n, v, 0, 3600000, &c->reconnect_jitter_ms);
            else if (!strcmp(n, "prefix")) ok &= copy_param(n, v, c->prefix, sizeof(c->prefix));
            else if (!strcmp(n, "node-id")) ok &= copy_param(n, v, c->node_id, sizeof(c->node_id));
            else if (!strcmp(n, "queue-group")) ok &= copy_param(n, v, c->queue_group, sizeof(c->queue_group));
            else if (!strcmp(n, "dial-string")) ok &= copy_param(n, v, c->dial_string, sizeof(c->dial_string));
            else if (!strcmp(n, "offer-mode")) ok &= parse_offer_mode(v, &c->offer_mode);
            else if (!strcmp(n, "bridge-target")) ok &= copy_param(n, v, c->bridge_target, sizeof(c->bridge_target));
            else if (!strcmp(n, "bridge-timeout")) ok &= parse_int(n, v, 0, 600, &c->bridge_timeout_s);
            else if (!strcmp(n, "offer-application")) ok &= copy_param(n, v, c->offer_app, sizeof(c->offer_app));
            else if (!strcmp(n, "offer-application-args")) ok &= copy_param(n, v, c->offer_app_args, sizeof(c->offer_app_args));
            else if (!strcmp(n, "auto-answer")) c->auto_answer = switch_true(v);
            else if (!strcmp(n, "originate-timeout")) ok &= parse_int(n, v, 1, 3600, &c->originate_timeout);
            else if (!strcmp(n, "queue-size")) ok &= parse_int(n, v, 1, 65536, &c->queue_capacity);
            else if (!strcmp(n, "max-calls")) ok &= parse_int(n, v, 1, 65536, &c->max_calls);
            else if (!strcmp(n, "publish-events")) ok &= parse_events(v, c);
            else {
                switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: unknown param '%s'\n", n);
                ok = 0;
            }
        }
    }
    switch_xml_free(xml);
    if (c->user[0] != '\0' && (c->credentials[0] != '\0' || c->token[0] != '\0')) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
                          "sipnats: set only one of credentials-file, user/password, token\n");
        ok = 0;
    }
    if (c->offer_mode == SIPNATS_OFFER_BRIDGE && c->bridge_target[0] == '\0') {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: offer-mode bridge needs bridge-target\n");
        ok = 0;
    }
    return ok ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

/* ---- ops: actions on FreeSWITCH, called from the worker thread ------------------------- */

/* One originate in flight: everything the job thread needs, owned by that thread. */
typedef struct originate_job {
    char uuid[SWITCH_UUID_FORMATTED_LENGTH + 1];
    char *dial;
    switch_event_t *vars;
    char app[128];
    char app_args[MAX_PARAM];
    int auto_answer;
    int timeout_s;
} originate_job;

static void originate_job_free(originate_job *job)
{
    if (job == NULL)
        return;
    switch_event_destroy(&job->vars);
    switch_safe_free(job->dial);
    free(job);
}

/* Runs the offer application on the new leg the way `originate ... &app(args)` does. */
static void start_offer_app(switch_core_session_t *leg, const originate_job *job)
{
    switch_channel_t *ch = switch_core_session_get_channel(leg);
    const char *args = job->app_args[0] != '\0' ? job->app_args : NULL;
    switch_caller_extension_t *ext = switch_caller_extension_new(leg, job->app, args);
    if (ext == NULL) {
        switch_channel_hangup(ch, SWITCH_CAUSE_DESTINATION_OUT_OF_ORDER);
        return;
    }
    switch_caller_extension_add_application(leg, ext, job->app, args);
    switch_channel_set_caller_extension(ch, ext);
    switch_channel_set_state(ch, CS_EXECUTE);
}

/* FreeSWITCH pool thread: a blocking originate (the leg's id is fixed in advance with
 * origination_uuid, so the core can address it at once), then the offer application. Counted in
 * globals.jobs so that stop waits for it; globals.cancel_cause aborts it on stop. */
static void *SWITCH_THREAD_FUNC originate_run(switch_thread_t *thread, void *obj)
{
    originate_job *job = obj;
    switch_core_session_t *leg = NULL;
    switch_call_cause_t cause = SWITCH_CAUSE_NONE;
    switch_event_t *vars = job->vars;
    (void)thread;
    job->vars = NULL; /* switch_ivr_originate takes it over */
    if (switch_ivr_originate(NULL, &leg, &cause, job->dial, (uint32_t)job->timeout_s, NULL, NULL, NULL, NULL, vars,
                             SOF_NONE, &globals.cancel_cause, NULL) != SWITCH_STATUS_SUCCESS || leg == NULL) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_WARNING, "sipnats: originate %s (%s) failed: %s\n",
                          job->dial, job->uuid, switch_channel_cause2str(cause));
    } else {
        if (job->auto_answer)
            switch_channel_answer(switch_core_session_get_channel(leg));
        if (job->app[0] != '\0')
            start_offer_app(leg, job);
        switch_core_session_rwunlock(leg);
    }
    switch_event_destroy(&vars);
    originate_job_free(job);
    switch_atomic_dec(&globals.jobs);
    return NULL;
}

static int op_originate(void *host, const char *dial, const sipnats_core_var *vars, size_t nvars,
                        char *uuid_out, size_t uuid_size)
{
    originate_job *job;
    switch_thread_data_t *td = NULL, *queued;
    (void)host;
    if (!switch_atomic_read(&globals.running))
        return -1;
    if ((job = calloc(1, sizeof(*job))) == NULL || (job->dial = strdup(dial)) == NULL ||
        switch_event_create_plain(&job->vars, SWITCH_EVENT_CHANNEL_DATA) != SWITCH_STATUS_SUCCESS ||
        (td = calloc(1, sizeof(*td))) == NULL) {
        originate_job_free(job);
        return -1;
    }
    switch_uuid_str(job->uuid, sizeof(job->uuid));
    if (strlen(job->uuid) >= uuid_size) { /* 36 characters; the core's buffer holds 64 */
        free(td);
        originate_job_free(job);
        return -1;
    }
    switch_copy_string(job->app, globals.cfg.offer_app, sizeof(job->app));
    switch_copy_string(job->app_args, globals.cfg.offer_app_args, sizeof(job->app_args));
    job->auto_answer = globals.cfg.auto_answer;
    job->timeout_s = globals.cfg.originate_timeout;
    switch_event_add_header_string(job->vars, SWITCH_STACK_BOTTOM, "origination_uuid", job->uuid);
    for (size_t i = 0; i < nvars; i++)
        switch_event_add_header_string(job->vars, SWITCH_STACK_BOTTOM, vars[i].name, vars[i].value);
    switch_copy_string(uuid_out, job->uuid, uuid_size);
    td->func = originate_run;
    td->obj = job;
    td->alloc = 1; /* FreeSWITCH frees td after originate_run returns */
    switch_atomic_inc(&globals.jobs);
    queued = td; /* launch clears the caller's pointer, even when the queue refuses it */
    if (switch_thread_pool_launch_thread(&queued) != SWITCH_STATUS_SUCCESS) {
        switch_atomic_dec(&globals.jobs);
        free(td);
        originate_job_free(job);
        return -1;
    }
    return 0;
}

static int with_channel(const char *uuid, int (*fn)(switch_channel_t *, const void *, const void *),
                        const void *a, const void *b)
{
    switch_core_session_t *session = switch_core_session_locate(uuid);
    int rc;
    if (session == NULL)
        return -1;
    rc = fn(switch_core_session_get_channel(session), a, b);
    switch_core_session_rwunlock(session);
    return rc;
}

static int do_answer(switch_channel_t *ch, const void *a, const void *b)
{
    (void)a;
    (void)b;
    return switch_channel_answer(ch) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

static int do_set_var(switch_channel_t *ch, const void *name, const void *value)
{
    return switch_channel_set_variable(ch, (const char *)name, (const char *)value) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

static int do_hangup(switch_channel_t *ch, const void *cause, const void *b)
{
    (void)b;
    switch_channel_hangup(ch, switch_channel_str2cause((const char *)cause));
    return 0;
}

static int op_answer(void *host, const char *uuid)
{
    (void)host;
    return with_channel(uuid, do_answer, NULL, NULL);
}

static int op_set_variable(void *host, const char *uuid, const char *name, const char *value)
{
    (void)host;
    return with_channel(uuid, do_set_var, name, value);
}

static int op_bridge(void *host, const char *a, const char *b)
{
    (void)host;
    return switch_ivr_uuid_bridge(a, b) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

static int op_hangup(void *host, const char *uuid, const char *cause)
{
    (void)host;
    return with_channel(uuid, do_hangup, cause, NULL);
}

static int op_execute_api(void *host, const char *cmd, const char *args)
{
    switch_stream_handle_t stream = {0};
    switch_status_t st;
    (void)host;
    SWITCH_STANDARD_STREAM(stream);
    st = switch_api_execute(cmd, args, NULL, &stream);
    switch_safe_free(stream.data);
    return st == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

static int op_publish(void *host, const char *subject, const char *data, size_t len)
{
    (void)host;
    return sipnats_client_publish(globals.client, subject, data, len, NULL, 0) == SIPNATS_OK ? 0 : -1;
}

/* One bridge request in flight (bridge mode), owned by its pool thread. */
typedef struct request_job {
    char *subject;
    char *data;
    size_t len;
    void *token;
} request_job;

static void request_job_free(request_job *job)
{
    if (job == NULL)
        return;
    switch_safe_free(job->subject);
    switch_safe_free(job->data);
    free(job);
}

/* FreeSWITCH pool thread: the blocking request and the core's verdict on its reply. Counted in
 * globals.jobs, so stop waits for it before the client and the core go away. */
static void *SWITCH_THREAD_FUNC request_run(switch_thread_t *thread, void *obj)
{
    request_job *job = obj;
    char *reply = NULL;
    size_t len = 0;
    sipnats_status s;
    (void)thread;
    s = sipnats_client_request(globals.client, job->subject, job->data, job->len, COMMAND_TIMEOUT_MS, &reply, &len);
    sipnats_core_request_done(globals.core, job->token, s, reply, len);
    sipnats_free(reply);
    request_job_free(job);
    switch_atomic_dec(&globals.jobs);
    return NULL;
}

static int op_request(void *host, const char *subject, const char *data, size_t len, void *token)
{
    request_job *job;
    switch_thread_data_t *td = NULL, *queued;
    (void)host;
    if (!switch_atomic_read(&globals.running))
        return -1;
    if ((job = calloc(1, sizeof(*job))) == NULL || (job->subject = strdup(subject)) == NULL ||
        (job->data = malloc(len > 0 ? len : 1)) == NULL || (td = calloc(1, sizeof(*td))) == NULL) {
        request_job_free(job);
        return -1;
    }
    memcpy(job->data, data, len);
    job->len = len;
    job->token = token;
    td->func = request_run;
    td->obj = job;
    td->alloc = 1; /* FreeSWITCH frees td after request_run returns */
    switch_atomic_inc(&globals.jobs);
    queued = td;
    if (switch_thread_pool_launch_thread(&queued) != SWITCH_STATUS_SUCCESS) {
        switch_atomic_dec(&globals.jobs);
        free(td);
        request_job_free(job);
        return -1;
    }
    return 0;
}

static void op_log(void *host, int level, const char *msg)
{
    switch_log_level_t l = level >= SIPNATS_LOG_ERROR     ? SWITCH_LOG_ERROR
                           : level == SIPNATS_LOG_WARNING ? SWITCH_LOG_WARNING
                           : level == SIPNATS_LOG_INFO    ? SWITCH_LOG_INFO
                                                          : SWITCH_LOG_DEBUG;
    (void)host;
    switch_log_printf(SWITCH_CHANNEL_LOG, l, "sipnats: %s\n", msg);
}

static const sipnats_core_ops fs_ops = {op_originate, op_answer,      op_set_variable, op_bridge, op_hangup,
                                        op_execute_api, op_publish, op_log,          op_request};

/* ---- NATS side: libnats threads, enqueue only ------------------------------------------ */

static void on_nats_event(const char *event, const char *payload, size_t len, void *user)
{
    sipnats_core *core = user;
    if (!strncmp(event, "nats.", 5)) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_NOTICE, "sipnats: %s %.*s\n", event,
                          (int)(len > 200 ? 200 : len), payload);
        return;
    }
    /* Full queue or oversized payload: dropped and counted by the core. */
    (void)sipnats_core_enqueue(core, event, payload, len);
}

/* ---- worker: a FreeSWITCH thread performing the actions -------------------------------- */

static void *SWITCH_THREAD_FUNC worker_run(switch_thread_t *thread, void *obj)
{
    sipnats_core *core = obj;
    (void)thread;
    while (switch_atomic_read(&globals.running)) {
        sipnats_status s = sipnats_core_run_once(core, 500);
        if (s == SIPNATS_ERR_CLOSED)
            break;
    }
    return NULL;
}

/* ---- FreeSWITCH channel events -> commands (FreeSWITCH event threads) ------------------- */

/* A channel is tied to a sipnats call by the sipnats_call variable (a leg this module originated
 * for an offer: its events also become call commands) or else by the X-Sipnats-Call header of the
 * INVITE that created it (a bridge's leg to our sofia profile: channel events only). DTMF events
 * carry no channel variables (unless verbose events are on), so the channel is looked up for them. */
static void on_channel_event(switch_event_t *event)
{
    sipnats_channel_event ev = {0};
    switch_core_session_t *session = NULL;
    const char *dur, *ts;
    const char *originated = switch_event_get_header(event, "variable_sipnats_call");
    const char *header = switch_event_get_header(event, "variable_sip_h_" SIPNATS_SIP_HDR_CALL);
    ev.uuid = switch_event_get_header(event, "Unique-ID");
    if (ev.uuid == NULL || globals.core == NULL)
        return;
    if (originated == NULL && header == NULL && event->event_id == SWITCH_EVENT_DTMF &&
        (session = switch_core_session_locate(ev.uuid)) != NULL) {
        switch_channel_t *channel = switch_core_session_get_channel(session);
        originated = switch_channel_get_variable(channel, "sipnats_call");
        header = switch_channel_get_variable(channel, "sip_h_" SIPNATS_SIP_HDR_CALL);
    }
    ev.call_id = originated != NULL ? originated : header;
    ev.originated = originated != NULL;
    if (ev.call_id == NULL)
        goto done;
    ev.direction = switch_event_get_header(event, "Call-Direction");
    ts = switch_event_get_header(event, "Event-Date-Timestamp"); /* microseconds */
    ev.at_ms = ts != NULL ? (int64_t)(strtoll(ts, NULL, 10) / 1000) : 0;
    switch (event->event_id) {
    case SWITCH_EVENT_CHANNEL_CREATE: ev.type = SIPNATS_CHANNEL_CREATE; break;
    case SWITCH_EVENT_CHANNEL_PROGRESS: ev.type = SIPNATS_CHANNEL_PROGRESS; break;
    case SWITCH_EVENT_CHANNEL_PROGRESS_MEDIA: ev.type = SIPNATS_CHANNEL_PROGRESS_MEDIA; break;
    case SWITCH_EVENT_CHANNEL_ANSWER:
        ev.type = SIPNATS_CHANNEL_ANSWER;
        ev.sdp = switch_event_get_header(event, "variable_rtp_local_sdp_str");
        break;
    case SWITCH_EVENT_CHANNEL_HANGUP:
        ev.type = SIPNATS_CHANNEL_HANGUP;
        ev.cause = switch_event_get_header(event, "Hangup-Cause");
        ev.remote_hangup = switch_true(switch_event_get_header(event, "variable_sipnats_remote_hangup"));
        break;
    case SWITCH_EVENT_DTMF: {
        const char *d = switch_event_get_header(event, "DTMF-Digit");
        ev.type = SIPNATS_CHANNEL_DTMF;
        ev.digit = d != NULL ? d[0] : '\0';
        dur = switch_event_get_header(event, "DTMF-Duration");
        ev.duration_ms = dur != NULL ? atoi(dur) / 8 : 0; /* samples at 8 kHz */
        break;
    }
    default: goto done;
    }
    (void)sipnats_core_channel_event(globals.core, &ev);
done:
    if (session != NULL)
        switch_core_session_rwunlock(session);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void unbind_events(void)
{
    for (size_t i = 0; i < sizeof(globals.nodes) / sizeof(globals.nodes[0]); i++)
        if (globals.nodes[i] != NULL)
            switch_event_unbind(&globals.nodes[i]);
}

/* Explicit order: unbind events, stop and join the worker, drain NATS, destroy client, core. */
static void sipnats_stop(void)
{
    switch_status_t st;
    unbind_events();
    switch_atomic_set(&globals.running, 0);
    if (globals.core != NULL)
        sipnats_core_stop(globals.core);
    if (globals.worker != NULL) {
        switch_thread_join(&st, globals.worker);
        globals.worker = NULL;
    }
    /* No new originate can start now; abort those in flight and wait for their threads. */
    globals.cancel_cause = SWITCH_CAUSE_MANAGER_REQUEST;
    for (int waited_ms = 0; switch_atomic_read(&globals.jobs) > 0; waited_ms += 10) {
        if (waited_ms == JOB_WAIT_WARN_MS)
            switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_WARNING, "sipnats: waiting for %u originate(s) to end\n",
                              switch_atomic_read(&globals.jobs));
        switch_yield(10000);
    }
    if (globals.client != NULL) {
        sipnats_status s = sipnats_client_drain(globals.client, DRAIN_TIMEOUT_MS);
        if (s != SIPNATS_OK && s != SIPNATS_ERR_NOT_CONNECTED && s != SIPNATS_ERR_CLOSED)
            switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_WARNING, "sipnats: drain: %s\n", sipnats_status_text(s));
        sipnats_client_destroy(globals.client);
        globals.client = NULL;
    }
    sipnats_core_destroy(globals.core);
    globals.core = NULL;
}

static switch_status_t sipnats_start(void)
{
    const sipnats_config *c = &globals.cfg;
    sipnats_options *o = NULL;
    sipnats_core_config cc = {0};
    switch_threadattr_t *attr = NULL;
    sipnats_status s;

    cc.prefix = c->prefix;
    cc.dial_string = c->dial_string;
    cc.offer_mode = c->offer_mode;
    cc.bridge_target = c->offer_mode == SIPNATS_OFFER_BRIDGE ? c->bridge_target : NULL;
    cc.bridge_timeout_ms = c->bridge_timeout_s * 1000;
    cc.node = c->node_id[0] ? c->node_id : switch_core_get_switchname();
    /* The leg exists only once its originate thread has created it, so the module answers it
     * there (auto-answer) rather than through the core. */
    cc.auto_answer = 0;
    cc.queue_capacity = (size_t)c->queue_capacity;
    cc.max_calls = (size_t)c->max_calls;
    s = sipnats_core_create(&globals.core, &cc, &fs_ops, NULL);
    if (s == SIPNATS_ERR_INVALID_ARG)
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
                          "sipnats: invalid call control settings (prefix, node-id, bridge-target: a sip: or sips: URI "
                          "template with ${to_user} ${from_user} ${call}, bridge-timeout)\n");
    if (s == SIPNATS_OK) s = sipnats_options_create(&o);
    if (s == SIPNATS_OK) s = sipnats_options_set_servers_csv(o, c->servers);
    if (s == SIPNATS_OK) s = sipnats_options_set_name(o, c->name);
    if (s == SIPNATS_OK) s = sipnats_options_set_prefix(o, c->prefix);
    if (s == SIPNATS_OK) s = sipnats_options_set_send_asap(o, c->send_asap);
    if (s == SIPNATS_OK && c->node_id[0]) s = sipnats_options_set_instance(o, c->node_id);
    if (s == SIPNATS_OK && c->credentials[0]) s = sipnats_options_set_credentials_file(o, c->credentials);
    if (s == SIPNATS_OK && c->user[0]) s = sipnats_options_set_user_password(o, c->user, c->password);
    if (s == SIPNATS_OK && c->token[0]) s = sipnats_options_set_token(o, c->token);
    if (s == SIPNATS_OK) s = sipnats_options_set_tls(o, c->tls, c->ca_file[0] ? c->ca_file : NULL);
    if (s == SIPNATS_OK)
        s = sipnats_options_set_reconnect(o, c->max_reconnect, c->reconnect_wait_ms, c->reconnect_jitter_ms);
    if (s == SIPNATS_OK) s = sipnats_client_create(&globals.client, o);
    sipnats_options_destroy(o);
    if (s == SIPNATS_OK) s = sipnats_client_set_callback(globals.client, on_nats_event, globals.core);
    if (s == SIPNATS_OK) s = sipnats_client_connect(globals.client);
    if (s == SIPNATS_OK)
        s = sipnats_client_subscribe_call_events(globals.client, NULL,
                                                 c->queue_group[0] ? c->queue_group : NULL, NULL);
    if (s != SIPNATS_OK) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: start failed: %s %s\n",
                          sipnats_status_text(s), sipnats_client_last_error(globals.client));
        sipnats_stop();
        return SWITCH_STATUS_FALSE;
    }

    globals.cancel_cause = SWITCH_CAUSE_NONE;
    switch_atomic_set(&globals.running, 1);
    switch_threadattr_create(&attr, globals.pool);
    switch_threadattr_stacksize_set(attr, SWITCH_THREAD_STACKSIZE);
    if (switch_thread_create(&globals.worker, attr, worker_run, globals.core, globals.pool) != SWITCH_STATUS_SUCCESS) {
        globals.worker = NULL;
        sipnats_stop();
        return SWITCH_STATUS_FALSE;
    }
    if ((c->publish_create && switch_event_bind_removable(modname, SWITCH_EVENT_CHANNEL_CREATE, SWITCH_EVENT_SUBCLASS_ANY,
                                                          on_channel_event, NULL, &globals.nodes[0]) != SWITCH_STATUS_SUCCESS) ||
        (c->publish_answer && switch_event_bind_removable(modname, SWITCH_EVENT_CHANNEL_ANSWER, SWITCH_EVENT_SUBCLASS_ANY,
                                                          on_channel_event, NULL, &globals.nodes[1]) != SWITCH_STATUS_SUCCESS) ||
        (c->publish_hangup && switch_event_bind_removable(modname, SWITCH_EVENT_CHANNEL_HANGUP, SWITCH_EVENT_SUBCLASS_ANY,
                                                          on_channel_event, NULL, &globals.nodes[2]) != SWITCH_STATUS_SUCCESS) ||
        (c->publish_dtmf && switch_event_bind_removable(modname, SWITCH_EVENT_DTMF, SWITCH_EVENT_SUBCLASS_ANY,
                                                        on_channel_event, NULL, &globals.nodes[3]) != SWITCH_STATUS_SUCCESS) ||
        (c->publish_progress && switch_event_bind_removable(modname, SWITCH_EVENT_CHANNEL_PROGRESS, SWITCH_EVENT_SUBCLASS_ANY,
                                                            on_channel_event, NULL, &globals.nodes[4]) != SWITCH_STATUS_SUCCESS) ||
        (c->publish_progress_media &&
         switch_event_bind_removable(modname, SWITCH_EVENT_CHANNEL_PROGRESS_MEDIA, SWITCH_EVENT_SUBCLASS_ANY, on_channel_event,
                                     NULL, &globals.nodes[5]) != SWITCH_STATUS_SUCCESS)) {
        switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "sipnats: cannot bind events\n");
        sipnats_stop();
        return SWITCH_STATUS_FALSE;
    }
    switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_INFO, "sipnats: started (libsipnats %s, libnats %s, %s, offer-mode %s)\n",
                      sipnats_version(), sipnats_nats_version(), c->servers,
                      c->offer_mode == SIPNATS_OFFER_BRIDGE ? "bridge" : "originate");
    return SWITCH_STATUS_SUCCESS;
}

/* ---- API ---------------------------------------------------------------------------------- */

#define SIPNATS_USAGE "status | publish <subject> <data> | command <action> <json> | reload"

static void api_status(switch_stream_handle_t *stream)
{
    sipnats_stats ns = {0};
    sipnats_core_stats cs = {0};
    if (globals.client == NULL || globals.core == NULL) {
        stream->write_function(stream, "-ERR not running\n");
        return;
    }
    sipnats_client_stats(globals.client, &ns);
    sipnats_core_get_stats(globals.core, &cs);
    /* FreeSWITCH's stream printf has no %zu: sizes are printed as unsigned long. */
    stream->write_function(stream,
                           "connected: %s\nservers: %s\nprefix: %s\nnode-id: %s\noffer-mode: %s\n"
                           "delivered: %llu\ndropped-no-callback: %llu\nreconnects: %llu\n"
                           "enqueued: %llu\ndropped-queue-full: %llu\nqueued: %lu\nbreaker: %s\n"
                           "handled: %llu\nrefused: %llu\nactions-failed: %llu\ncalls: %lu\njobs: %u\n"
                           "bridging: %lu\nbridged: %llu\n",
                           sipnats_client_is_connected(globals.client) ? "yes" : "no", globals.cfg.servers,
                           globals.cfg.prefix, globals.cfg.node_id,
                           globals.cfg.offer_mode == SIPNATS_OFFER_BRIDGE ? "bridge" : "originate", (unsigned long long)ns.delivered,
                           (unsigned long long)ns.dropped, (unsigned long long)ns.reconnects,
                           (unsigned long long)cs.enqueued, (unsigned long long)cs.dropped, (unsigned long)cs.queued,
                           cs.breaker_open ? "open" : "closed", (unsigned long long)cs.handled,
                           (unsigned long long)cs.refused, (unsigned long long)cs.actions_failed, (unsigned long)cs.calls,
                           switch_atomic_read(&globals.jobs), (unsigned long)cs.bridging, (unsigned long long)cs.bridged);
}

SWITCH_STANDARD_API(sipnats_api)
{
    char *mycmd = NULL, *argv[3] = {0};
    int argc = 0;
    (void)session;
    if (zstr(cmd) || !(mycmd = strdup(cmd))) {
        stream->write_function(stream, "-USAGE: %s\n", SIPNATS_USAGE);
        return SWITCH_STATUS_SUCCESS;
    }
    argc = switch_separate_string(mycmd, ' ', argv, 3);
    switch_mutex_lock(globals.lifecycle_mutex);
    if (argc >= 1 && !strcmp(argv[0], "status")) {
        api_status(stream);
    } else if (argc >= 1 && !strcmp(argv[0], "reload")) {
        sipnats_config fresh;
        if (load_config(&fresh) != SWITCH_STATUS_SUCCESS) {
            stream->write_function(stream, "-ERR config invalid, still running the old one\n");
        } else {
            sipnats_stop();
            globals.cfg = fresh;
            stream->write_function(stream, sipnats_start() == SWITCH_STATUS_SUCCESS ? "+OK reloaded\n" : "-ERR start failed\n");
        }
    } else if (argc == 3 && !strcmp(argv[0], "publish")) {
        sipnats_status s = globals.client == NULL ? SIPNATS_ERR_CLOSED
                                                  : sipnats_client_publish(globals.client, argv[1], argv[2], strlen(argv[2]), NULL, 0);
        stream->write_function(stream, s == SIPNATS_OK ? "+OK\n" : "-ERR %s\n", sipnats_status_text(s));
    } else if (argc == 3 && !strcmp(argv[0], "command")) {
        char subject[SIPNATS_MAX_SUBJECT_LEN + 1], action[SIPNATS_MAX_TOKEN_LEN * 3 + 1];
        char *reply = NULL;
        size_t len = 0;
        sipnats_status s = sipnats_util_encode_token(argv[1], strlen(argv[1]), action, sizeof(action));
        if (s == SIPNATS_OK && globals.client == NULL)
            s = SIPNATS_ERR_CLOSED;
        if (s == SIPNATS_OK) {
            snprintf(subject, sizeof(subject), "%s.%s.%s", globals.cfg.prefix, SIPNATS_SUBJ_CMD_CALL, action);
            s = sipnats_client_request(globals.client, subject, argv[2], strlen(argv[2]), COMMAND_TIMEOUT_MS, &reply, &len);
        }
        if (s == SIPNATS_OK)
            stream->write_function(stream, "+OK %.*s\n", (int)len, reply);
        else
            stream->write_function(stream, "-ERR %s\n", sipnats_status_text(s));
        sipnats_free(reply);
    } else {
        stream->write_function(stream, "-USAGE: %s\n", SIPNATS_USAGE);
    }
    switch_mutex_unlock(globals.lifecycle_mutex);
    free(mycmd);
    return SWITCH_STATUS_SUCCESS;
}

SWITCH_MODULE_LOAD_FUNCTION(mod_sipnats_load)
{
    switch_api_interface_t *api_interface;
    memset(&globals, 0, sizeof(globals));
    globals.pool = pool;
    switch_mutex_init(&globals.lifecycle_mutex, SWITCH_MUTEX_NESTED, pool);
    *module_interface = switch_loadable_module_create_module_interface(pool, modname);
    if (load_config(&globals.cfg) != SWITCH_STATUS_SUCCESS)
        return SWITCH_STATUS_TERM;
    if (sipnats_start() != SWITCH_STATUS_SUCCESS)
        return SWITCH_STATUS_TERM;
    SWITCH_ADD_API(api_interface, "sipnats", "sipnats control", sipnats_api, SIPNATS_USAGE);
    switch_console_set_complete("add sipnats status");
    switch_console_set_complete("add sipnats publish");
    switch_console_set_complete("add sipnats command");
    switch_console_set_complete("add sipnats reload");
    return SWITCH_STATUS_SUCCESS;
}

SWITCH_MODULE_SHUTDOWN_FUNCTION(mod_sipnats_shutdown)
{
    switch_console_set_complete("del sipnats");
    switch_mutex_lock(globals.lifecycle_mutex);
    sipnats_stop();
    switch_mutex_unlock(globals.lifecycle_mutex);
    return SWITCH_STATUS_SUCCESS;
}
