/* sipnats_options: what a client connects to and how. Pure data, no I/O. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OPTION_STRING 4096

static sipnats_status dup_opt(char **slot, const char *value)
{
    char *copy = NULL;
    if (value != NULL) {
        size_t n = strnlen(value, MAX_OPTION_STRING + 1);
        if (n > MAX_OPTION_STRING)
            return SIPNATS_ERR_TOO_LARGE;
        copy = malloc(n + 1);
        if (copy == NULL)
            return SIPNATS_ERR_NO_MEMORY;
        memcpy(copy, value, n + 1);
    }
    free(*slot);
    *slot = copy;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_create(sipnats_options **out)
{
    sipnats_options *o;
    if (out == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    *out = NULL;
    o = calloc(1, sizeof(*o));
    if (o == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    if (dup_opt(&o->servers[0], "nats://127.0.0.1:4222") != SIPNATS_OK ||
        dup_opt(&o->name, "libsipnats") != SIPNATS_OK) {
        sipnats_options_destroy(o);
        return SIPNATS_ERR_NO_MEMORY;
    }
    o->server_count = 1;
    o->max_reconnect = SIPNATS_RECONNECT_FOREVER;
    o->reconnect_wait_ms = 2000;
    o->reconnect_jitter_ms = 100;
    o->connect_timeout_ms = 2000;
    strcpy(o->prefix, "sip");
    *out = o;
    return SIPNATS_OK;
}

static void clear_servers(sipnats_options *o)
{
    for (int i = 0; i < o->server_count; i++) {
        free(o->servers[i]);
        o->servers[i] = NULL;
    }
    o->server_count = 0;
}

void sipnats_options_destroy(sipnats_options *o)
{
    if (o == NULL)
        return;
    clear_servers(o);
    free(o->name);
    free(o->creds_file);
    free(o->user);
    free(o->password);
    free(o->token);
    free(o->ca_file);
    free(o);
}

static int valid_url(const char *u)
{
    size_t n = strnlen(u, MAX_OPTION_STRING + 1);
    if (n == 0 || n > MAX_OPTION_STRING)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || u[i] == ',')
            return 0;
    return 1;
}

sipnats_status sipnats_options_set_servers(sipnats_options *o, const char *const *urls, int count)
{
    char *copies[SIPNATS_MAX_SERVERS] = {0};
    if (o == NULL || urls == NULL || count < 1)
        return SIPNATS_ERR_INVALID_ARG;
    if (count > SIPNATS_MAX_SERVERS)
        return SIPNATS_ERR_TOO_LARGE;
    for (int i = 0; i < count; i++) {
        sipnats_status s;
        if (urls[i] == NULL || !valid_url(urls[i]))
            s = SIPNATS_ERR_INVALID_ARG;
        else
            s = dup_opt(&copies[i], urls[i]);
        if (s != SIPNATS_OK) {
            for (int k = 0; k < i; k++)
                free(copies[k]);
            return s;
        }
    }
    clear_servers(o);
    memcpy(o->servers, copies, sizeof(copies));
    o->server_count = count;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_servers_csv(sipnats_options *o, const char *csv)
{
    char buf[MAX_OPTION_STRING + 1];
    const char *urls[SIPNATS_MAX_SERVERS];
    int count = 0;
    size_t n;
    if (o == NULL || csv == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    n = strnlen(csv, MAX_OPTION_STRING + 1);
    if (n > MAX_OPTION_STRING)
        return SIPNATS_ERR_TOO_LARGE;
    memcpy(buf, csv, n + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
        if (count == SIPNATS_MAX_SERVERS)
            return SIPNATS_ERR_TOO_LARGE;
        urls[count++] = tok;
    }
    if (count == 0)
        return SIPNATS_ERR_INVALID_ARG;
    return sipnats_options_set_servers(o, urls, count);
}

sipnats_status sipnats_options_set_name(sipnats_options *o, const char *name)
{
    if (o == NULL || name == NULL || name[0] == '\0')
        return SIPNATS_ERR_INVALID_ARG;
    return dup_opt(&o->name, name);
}

static void clear_auth(sipnats_options *o)
{
    free(o->creds_file);
    free(o->user);
    free(o->password);
    free(o->token);
    o->creds_file = o->user = o->password = o->token = NULL;
}

sipnats_status sipnats_options_set_credentials_file(sipnats_options *o, const char *path)
{
    char *copy = NULL;
    sipnats_status s;
    if (o == NULL || (path != NULL && path[0] == '\0'))
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = dup_opt(&copy, path)) != SIPNATS_OK)
        return s;
    clear_auth(o);
    o->creds_file = copy;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_user_password(sipnats_options *o, const char *user,
                                                 const char *password)
{
    char *u = NULL, *p = NULL;
    sipnats_status s;
    if (o == NULL || (user == NULL) != (password == NULL) || (user != NULL && user[0] == '\0'))
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = dup_opt(&u, user)) != SIPNATS_OK)
        return s;
    if ((s = dup_opt(&p, password)) != SIPNATS_OK) {
        free(u);
        return s;
    }
    clear_auth(o);
    o->user = u;
    o->password = p;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_token(sipnats_options *o, const char *token)
{
    char *copy = NULL;
    sipnats_status s;
    if (o == NULL || (token != NULL && token[0] == '\0'))
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = dup_opt(&copy, token)) != SIPNATS_OK)
        return s;
    clear_auth(o);
    o->token = copy;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_tls(sipnats_options *o, int enabled, const char *ca_file)
{
    sipnats_status s;
    if (o == NULL || (ca_file != NULL && ca_file[0] == '\0'))
        return SIPNATS_ERR_INVALID_ARG;
    if ((s = dup_opt(&o->ca_file, ca_file)) != SIPNATS_OK)
        return s;
    o->tls = enabled ? 1 : 0;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_reconnect(sipnats_options *o, int max_attempts, int64_t wait_ms,
                                             int64_t jitter_ms)
{
    if (o == NULL || max_attempts < SIPNATS_RECONNECT_FOREVER || wait_ms < 0 || jitter_ms < 0 ||
        wait_ms > 3600000 || jitter_ms > 3600000)
        return SIPNATS_ERR_INVALID_ARG;
    o->max_reconnect = max_attempts;
    o->reconnect_wait_ms = wait_ms;
    o->reconnect_jitter_ms = jitter_ms;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_connect_timeout(sipnats_options *o, int64_t timeout_ms)
{
    if (o == NULL || timeout_ms <= 0 || timeout_ms > 600000)
        return SIPNATS_ERR_INVALID_ARG;
    o->connect_timeout_ms = timeout_ms;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_send_asap(sipnats_options *o, int enabled)
{
    if (o == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    o->send_asap = enabled != 0;
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_prefix(sipnats_options *o, const char *prefix)
{
    size_t n;
    if (o == NULL || prefix == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    n = strnlen(prefix, SIPNATS_MAX_PREFIX_LEN + 1);
    if (n == 0)
        return SIPNATS_ERR_INVALID_ARG;
    if (n > SIPNATS_MAX_PREFIX_LEN)
        return SIPNATS_ERR_TOO_LARGE;
    for (size_t i = 0; i < n; i++) {
        char ch = prefix[i];
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (ch == '.') {
            if (i == 0 || i == n - 1 || prefix[i - 1] == '.')
                return SIPNATS_ERR_INVALID_ARG;
        } else if (!plain) {
            return SIPNATS_ERR_INVALID_ARG;
        }
    }
    memcpy(o->prefix, prefix, n + 1);
    return SIPNATS_OK;
}

sipnats_status sipnats_options_set_instance(sipnats_options *o, const char *instance)
{
    size_t n;
    if (o == NULL || instance == NULL)
        return SIPNATS_ERR_INVALID_ARG;
    n = strnlen(instance, SIPNATS_MAX_TOKEN_LEN + 1);
    if (n == 0)
        return SIPNATS_ERR_INVALID_ARG;
    if (n > SIPNATS_MAX_TOKEN_LEN)
        return SIPNATS_ERR_TOO_LARGE;
    return sipnats_util_encode_token(instance, n, o->instance, sizeof(o->instance));
}

sipnats_status sipnats_options_clone(const sipnats_options *src, sipnats_options **out)
{
    sipnats_options *o = calloc(1, sizeof(*o));
    sipnats_status s = SIPNATS_OK;
    if (o == NULL)
        return SIPNATS_ERR_NO_MEMORY;
    for (int i = 0; i < src->server_count && s == SIPNATS_OK; i++) {
        s = dup_opt(&o->servers[i], src->servers[i]);
        if (s == SIPNATS_OK)
            o->server_count = i + 1;
    }
    if (s == SIPNATS_OK) s = dup_opt(&o->name, src->name);
    if (s == SIPNATS_OK) s = dup_opt(&o->creds_file, src->creds_file);
    if (s == SIPNATS_OK) s = dup_opt(&o->user, src->user);
    if (s == SIPNATS_OK) s = dup_opt(&o->password, src->password);
    if (s == SIPNATS_OK) s = dup_opt(&o->token, src->token);
    if (s == SIPNATS_OK) s = dup_opt(&o->ca_file, src->ca_file);
    if (s != SIPNATS_OK) {
        sipnats_options_destroy(o);
        return s;
    }
    o->tls = src->tls;
    o->max_reconnect = src->max_reconnect;
    o->reconnect_wait_ms = src->reconnect_wait_ms;
    o->reconnect_jitter_ms = src->reconnect_jitter_ms;
    o->connect_timeout_ms = src->connect_timeout_ms;
    o->send_asap = src->send_asap;
    memcpy(o->prefix, src->prefix, sizeof(o->prefix));
    memcpy(o->instance, src->instance, sizeof(o->instance));
    *out = o;
    return SIPNATS_OK;
}
