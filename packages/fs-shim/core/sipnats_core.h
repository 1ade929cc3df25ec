/*
 * sipnats_core: host-agnostic call control between sipnats events and a telephony host
 * (FreeSWITCH in mod_sipnats, a recording fake in the tests).
 *
 * Flow
 *   NATS delivery threads --sipnats_core_enqueue()--> bounded queue --sipnats_core_run_once()-->
 *   event handlers --ops--> host actions (originate, answer, set variable, bridge, hang up, API,
 *   call command requests)
 *   host channel events --sipnats_core_channel_event()--> channel events (and, for legs the host
 *   originated, call commands) published back.
 *
 * Threading
 *   - sipnats_core_enqueue(): any thread; copies the event; never blocks beyond a short mutex;
 *     when the queue is full the event is dropped and counted (circuit breaker: the host thread
 *     logs once when dropping starts and once when it stops).
 *   - sipnats_core_run_once() / sipnats_core_handle_event(): the host's worker thread only
 *     (one thread); all ops except publish and log are called from there.
 *   - sipnats_core_channel_event() and sipnats_core_request_done(): any host thread; they call
 *     ops->publish and ops->log, which must therefore be thread-safe.
 *
 * Offer modes (sipnats_core_config.offer_mode)
 *   originate (default): call.offer -> originate(dial string from the template, with variables
 *                     sipnats_call, sip_h_X-Sipnats-Call, sipnats_remote_sdp, sipnats_from,
 *                     sipnats_to); answer() too when auto_answer; bridge() to the host leg of the
 *                     call named by the X-Sipnats-Bridge header when present. The host leg is
 *                     recorded in the call map, and the call events below act on it.
 *   bridge:           call.offer -> request(<prefix>.cmd.call.bridge, {target: the bridge target
 *                     template expanded, headers: {X-Sipnats-Call: <call>}, timeoutMs?}): the ua
 *                     sends the INVITE to the host's own SIP profile, whose channel carries the call
 *                     id in X-Sipnats-Call. Nothing is recorded in the call map: the ua's B2BUA does
 *                     the signalling of both sides, so later call events need no host action.
 *                     A refused bridge (ok:false, other than CONFLICT / BAD_STATE / NOT_FOUND) is
 *                     answered with a `reject` 503 so the caller is not left waiting; an offer
 *                     whose INVITE carried X-Sipnats-Call (our bridge's leg come back: a loop) is
 *                     rejected with 482 instead of bridged.
 *
 * Event -> action table (originate mode; payloads are CallEvent JSON, proto/CallEvent.schema.json)
 *   call.progress|ringing|early   set_variable(sipnats_state[, sipnats_remote_sdp])
 *   call.answered     set_variable(sipnats_state, sipnats_remote_sdp); answer() when outbound
 *   call.confirmed|updated        set_variable(sipnats_state[, sipnats_remote_sdp])
 *   call.dtmf         execute_api("uuid_recv_dtmf", "<uuid> <digit>")
 *   call.info         set_variable(sipnats_info_type, sipnats_info_body)
 *   call.transferred  set_variable(sipnats_state = transferred)
 *   call.cancelled|ended|failed   set_variable(sipnats_remote_hangup=true), hangup(cause)
 * Host channel events (channels carrying a sipnats call id):
 *   every one -> ChannelEvent on <prefix>.evt.channel.<create|progress|early|answer|hangup|dtmf>
 *   legs the host originated for an offer (originate mode) also -> call commands on
 *   <prefix>.cmd.call.<action>: create -> ring, answer -> answer (with the local SDP),
 *   hangup -> hangup (cause), dtmf -> info (application/dtmf-relay). A hangup caused by the remote
 *   end is not echoed as a command.
 */
#ifndef SIPNATS_CORE_H
#define SIPNATS_CORE_H

#include "libsipnats.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIPNATS_LOG_DEBUG 0
#define SIPNATS_LOG_INFO 1
#define SIPNATS_LOG_WARNING 2
#define SIPNATS_LOG_ERROR 3

#define SIPNATS_CORE_MAX_CALL_ID 256
#define SIPNATS_CORE_MAX_UUID 64

typedef struct sipnats_core_var {
    const char *name;
    const char *value;
} sipnats_core_var;

/** What the host does. Each returns 0 on success, non-zero on failure (logged by the core). */
typedef struct sipnats_core_ops {
    /** Start a host session: dial_string, variables to set on it; write its id to uuid_out. */
    int (*originate)(void *host, const char *dial_string, const sipnats_core_var *vars,
                     size_t nvars, char *uuid_out, size_t uuid_size);
    int (*answer)(void *host, const char *uuid);
    int (*set_variable)(void *host, const char *uuid, const char *name, const char *value);
    int (*bridge)(void *host, const char *uuid_a, const char *uuid_b);
    int (*hangup)(void *host, const char *uuid, const char *cause);
    int (*execute_api)(void *host, const char *command, const char *args);
    int (*publish)(void *host, const char *subject, const char *data, size_t len);
    void (*log)(void *host, int level, const char *message);
    /** Bridge mode (may be NULL otherwise): send `data` to `subject` as a NATS request without
     * blocking the caller (e.g. from a pool thread) and report the outcome exactly once with
     * sipnats_core_request_done(core, token, ...) from any thread. Non-zero: not started (then
     * sipnats_core_request_done must not be called for this token). */
    int (*request)(void *host, const char *subject, const char *data, size_t len, void *token);
} sipnats_core_ops;

#define SIPNATS_OFFER_ORIGINATE 0
#define SIPNATS_OFFER_BRIDGE 1

typedef struct sipnats_core_config {
    const char *prefix;      /**< subject prefix for commands ("sip" when NULL) */
    /** Dial string template: ${call}, ${to_user}, ${from_user} are replaced (values limited to
     * A-Za-z0-9+*#._- so nothing can be injected into the host's dial string syntax).
     * Default "loopback/${to_user}/default". */
    const char *dial_string;
    int auto_answer;          /**< answer the host leg right after originate */
    int offer_mode;           /**< SIPNATS_OFFER_ORIGINATE (default) or SIPNATS_OFFER_BRIDGE */
    /** Bridge mode: the bridge target, a sip: or sips: URI template with ${call}, ${to_user},
     * ${from_user} (values limited as for the dial string; '#' is sent as %23). Required there. */
    const char *bridge_target;
    int bridge_timeout_ms;    /**< bridge mode: timeoutMs of the bridge (0: the ua's default) */
    const char *node;         /**< node id in channel events (1-256 printable bytes; "sipnats") */
    size_t queue_capacity;    /**< events (default 1024, max 65536) */
    size_t max_payload;       /**< bytes per event (default 65536, max SIPNATS_MAX_PAYLOAD) */
    size_t max_calls;         /**< live call map entries (default 1024, max 65536) */
} sipnats_core_config;

typedef struct sipnats_core sipnats_core;

sipnats_status sipnats_core_create(sipnats_core **out, const sipnats_core_config *cfg,
                                   const sipnats_core_ops *ops, void *host);
/** Frees everything; the worker thread must have stopped calling run_once. NULL is fine. */
void sipnats_core_destroy(sipnats_core *core);

/** Any thread: copy and queue an event. SIPNATS_ERR_LIMIT when full (dropped and counted),
 * SIPNATS_ERR_TOO_LARGE over max_payload, SIPNATS_ERR_CLOSED after sipnats_core_stop. */
sipnats_status sipnats_core_enqueue(sipnats_core *core, const char *event, const char *payload,
                                    size_t len);
/** Worker thread: wait up to timeout_ms for one event and handle it. SIPNATS_ERR_TIMEOUT when
 * nothing came, SIPNATS_ERR_CLOSED once stopped and empty; otherwise the handling status. */
sipnats_status sipnats_core_run_once(sipnats_core *core, int64_t timeout_ms);
/** Refuse new events and wake the worker (run_once returns CLOSED once the queue is empty). */
void sipnats_core_stop(sipnats_core *core);

/** Handle one event now (what run_once does with a queued event). */
sipnats_status sipnats_core_handle_event(sipnats_core *core, const char *event,
                                         const char *payload, size_t len);

#define SIPNATS_CHANNEL_CREATE 1
#define SIPNATS_CHANNEL_ANSWER 2
#define SIPNATS_CHANNEL_HANGUP 3
#define SIPNATS_CHANNEL_DTMF 4
#define SIPNATS_CHANNEL_PROGRESS 5       /**< ringing (180) */
#define SIPNATS_CHANNEL_PROGRESS_MEDIA 6 /**< early media (183) */

typedef struct sipnats_channel_event {
    int type;              /**< SIPNATS_CHANNEL_* */
    const char *uuid;      /**< host session id (at most SIPNATS_CORE_MAX_UUID bytes) */
    /** The sipnats call the channel is tied to: the sipnats_call variable of a leg the host
     * originated, else its X-Sipnats-Call (sip_h_X-Sipnats-Call); NULL: not ours. */
    const char *call_id;
    /** 1: a leg the host originated for an offer (originate mode): its events also become call
     * commands. 0: any other channel (e.g. one a bridge's INVITE created): channel events only. */
    int originated;
    /** SIPNATS_DIRECTION_INBOUND or SIPNATS_DIRECTION_OUTBOUND, as the host sees the channel. */
    const char *direction;
    int64_t at_ms;         /**< event time, ms since the Unix epoch (0: now) */
    const char *sdp;       /**< ANSWER: local SDP */
    const char *cause;     /**< HANGUP: cause name */
    int remote_hangup;     /**< HANGUP: the sipnats_remote_hangup variable was set */
    char digit;            /**< DTMF */
    int duration_ms;       /**< DTMF */
} sipnats_channel_event;

/** Any host thread: publish the ChannelEvent of a channel event and, for an originated leg, the
 * matching call command. SIPNATS_ERR_NOT_FOUND when the channel is not tied to a sipnats call (no
 * call id); SIPNATS_OK when everything due was published (a remote hangup is deliberately not
 * echoed as a command); otherwise the first failure (both publishes are still attempted). */
sipnats_status sipnats_core_channel_event(sipnats_core *core, const sipnats_channel_event *ev);

/** Any host thread, once per successful ops->request: the outcome of that request. `status` is
 * the transport status (SIPNATS_OK: `reply` holds the CommandReply JSON, len bytes). Logs, counts,
 * and for a refused bridge publishes the `reject` described above. Frees the token. */
void sipnats_core_request_done(sipnats_core *core, void *token, sipnats_status status,
                               const char *reply, size_t len);

typedef struct sipnats_core_stats {
    uint64_t enqueued;
    uint64_t dropped;   /**< queue full */
    uint64_t handled;
    uint64_t refused;   /**< malformed, unknown or inconsistent events */
    uint64_t actions_failed;
    size_t queued;
    size_t calls;
    size_t bridging;    /**< bridge requests waiting for their reply */
    uint64_t bridged;   /**< bridge requests the ua accepted */
    int breaker_open;   /**< 1 while dropping */
} sipnats_core_stats;
sipnats_status sipnats_core_get_stats(sipnats_core *core, sipnats_core_stats *out);

/** Host session id of a call, for status commands (copied into uuid_out). */
sipnats_status sipnats_core_lookup_call(sipnats_core *core, const char *call_id, char *uuid_out,
                                        size_t uuid_size);

#ifdef __cplusplus
}
#endif

#endif /* SIPNATS_CORE_H */
