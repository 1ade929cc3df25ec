/*
 * libsipnats: a compact C ABI for sipnats (SIP signalling carried over NATS), built on the
 * official NATS C client (libnats).
 *
 * Conventions
 * -----------
 * - Every function returns a sipnats_status; SIPNATS_OK is 0. Calls can be chained:
 *       s = sipnats_options_create(&o);
 *       if (s == SIPNATS_OK) s = sipnats_options_set_servers(o, urls, 2);
 *       if (s == SIPNATS_OK) s = sipnats_client_create(&c, o);
 *   sipnats_status_text() names a status. Bad arguments give SIPNATS_ERR_INVALID_ARG, never a
 *   crash. Functions that allocate a result for the caller document which free function to use.
 * - Subjects follow proto/README.md: <prefix>.raw.in.<instance>, <prefix>.evt.call.<event>,
 *   <prefix>.evt.reg.<event>, <prefix>.cmd.call.<action>, <prefix>.out[.<instance>]. Tokens that
 *   come from the wire or configuration are encoded (sipnats_util_encode_token).
 *
 * Threading contract
 * ------------------
 * - The event callback is called from libnats threads: the delivery thread of each subscription
 *   for messages, and the libnats connection-callback thread for "nats.*" events. The one
 *   exception is "nats.connected" when sipnats_client_connect() connects at once: it is then
 *   delivered on the thread that called sipnats_client_connect(), before that call returns.
 *   Several subscriptions may deliver concurrently; one subscription delivers in order.
 * - Inside the callback the callee MAY: copy the data, enqueue it for another thread, call
 *   sipnats_callback_header() / sipnats_callback_reply_subject(), publish
 *   (sipnats_client_publish, sipnats_client_send_sip), subscribe and unsubscribe.
 *   It SHOULD NOT block (request, call_command), since that stalls the subscription.
 *   It MUST NOT call sipnats_client_set_callback, sipnats_client_clear_callback,
 *   sipnats_client_drain, sipnats_client_close or sipnats_client_destroy: these detect that
 *   they run on a callback thread and return SIPNATS_ERR_ILLEGAL_STATE.
 * - Lifetime: `event` and `payload` point into library memory valid only until the callback
 *   returns. Copy what you keep. `payload` is not NUL-terminated in general (raw SIP may hold
 *   NUL bytes); use `len`.
 * - sipnats_client_set_callback() and sipnats_client_clear_callback() wait until every delivery
 *   of the previous callback that is already running has returned. After they return, the old
 *   callback is never called again and its `user` pointer may be freed.
 * - All other client functions are safe to call from any thread concurrently.
 *
 * Library state
 * -------------
 * libsipnats keeps one process-wide reference count of live clients so that libnats is opened
 * (nats_Open) with the first client and closed (nats_CloseAndWait) with the last one; nothing
 * else is global. If the process uses libnats directly as well, keep one sipnats client alive
 * for as long as that use lasts, or call sipnats_library_retain()/sipnats_library_release().
 */
#ifndef LIBSIPNATS_H
#define LIBSIPNATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBSIPNATS_VERSION_MAJOR 1
#define LIBSIPNATS_VERSION_MINOR 0
#define LIBSIPNATS_VERSION_PATCH 0
#define LIBSIPNATS_VERSION_STRING "1.0.0"

/** Status codes. Stable: never renumbered, never reused. */
typedef int sipnats_status;
#define SIPNATS_OK 0
#define SIPNATS_ERR_INVALID_ARG 1      /**< NULL pointer, empty or malformed argument. */
#define SIPNATS_ERR_NO_MEMORY 2        /**< An allocation failed. */
#define SIPNATS_ERR_TOO_LARGE 3        /**< Input or output exceeds a documented bound. */
#define SIPNATS_ERR_NOT_CONNECTED 4    /**< Not connected (not yet, or no longer). */
#define SIPNATS_ERR_TIMEOUT 5          /**< The operation timed out. */
#define SIPNATS_ERR_NO_RESPONDERS 6    /**< A request reached no subscriber. */
#define SIPNATS_ERR_ILLEGAL_STATE 7    /**< Not allowed now (e.g. drain from a callback thread). */
#define SIPNATS_ERR_CLOSED 8           /**< The client is closed or draining. */
#define SIPNATS_ERR_LIMIT 9            /**< A fixed capacity is exhausted (subscriptions, queue). */
#define SIPNATS_ERR_NOT_FOUND 10       /**< No such subscription / header / entry. */
#define SIPNATS_ERR_NATS 11            /**< Another libnats error; see sipnats_client_last_error. */
#define SIPNATS_ERR_REJECTED 12        /**< A command reply said ok:false. */
#define SIPNATS_ERR_PROTOCOL 13        /**< A reply or payload did not follow the contract. */

/** A static, never-NULL English text for `s`. */
const char *sipnats_status_text(sipnats_status s);

/** libsipnats version ("1.0.0"). */
const char *sipnats_version(void);
/** Version of the libnats library linked at run time. */
const char *sipnats_nats_version(void);

/** Take / drop a reference on libnats (see "Library state"). Not from a callback thread. */
sipnats_status sipnats_library_retain(void);
sipnats_status sipnats_library_release(void);

/* ------------------------------------------------------------------------------------------ */
/* Options                                                                                     */

typedef struct sipnats_options sipnats_options;

/** Bounds. */
#define SIPNATS_MAX_SERVERS 16
#define SIPNATS_MAX_SUBSCRIPTIONS 128
#define SIPNATS_MAX_PREFIX_LEN 64
#define SIPNATS_MAX_TOKEN_LEN 128     /**< Of a decoded token (instance, event, action). */
#define SIPNATS_MAX_SUBJECT_LEN 512
#define SIPNATS_MAX_PAYLOAD (1024 * 1024)
#define SIPNATS_RECONNECT_FOREVER (-1)

/** Defaults: servers nats://127.0.0.1:4222, prefix "sip", no instance, name "libsipnats",
 * no auth, no TLS, reconnect forever every 2000 ms with 100 ms jitter, connect timeout 2000 ms. */
sipnats_status sipnats_options_create(sipnats_options **out);
void sipnats_options_destroy(sipnats_options *opts);

/** 1..SIPNATS_MAX_SERVERS URLs (nats://host:port, tls://...); copies them. */
sipnats_status sipnats_options_set_servers(sipnats_options *opts, const char *const *urls,
                                           int count);
/** Comma-separated URL list, as in the module config. */
sipnats_status sipnats_options_set_servers_csv(sipnats_options *opts, const char *csv);
sipnats_status sipnats_options_set_name(sipnats_options *opts, const char *name);
/** Authentication: exactly one kind is kept; each setter replaces the previous kind.
 * Pass NULL to clear. A credentials file holds the user JWT and NKey seed (.creds). */
sipnats_status sipnats_options_set_credentials_file(sipnats_options *opts, const char *path);
sipnats_status sipnats_options_set_user_password(sipnats_options *opts, const char *user,
                                                 const char *password);
sipnats_status sipnats_options_set_token(sipnats_options *opts, const char *token);
/** TLS on/off; ca_file may be NULL (system trust). */
sipnats_status sipnats_options_set_tls(sipnats_options *opts, int enabled, const char *ca_file);
/** max_attempts: >= 0, or SIPNATS_RECONNECT_FOREVER. wait_ms >= 0, jitter_ms >= 0. */
sipnats_status sipnats_options_set_reconnect(sipnats_options *opts, int max_attempts,
                                             int64_t wait_ms, int64_t jitter_ms);
/** Timeout of one TCP connect attempt (bounds how long sipnats_client_connect can block). */
sipnats_status sipnats_options_set_connect_timeout(sipnats_options *opts, int64_t timeout_ms);
/** Send every publish at once instead of letting libnats batch it (default off). On for
 * replies and commands where latency matters more than throughput: a reply published from a
 * callback otherwise waits for libnats's flusher. Requests are always sent at once. */
sipnats_status sipnats_options_set_send_asap(sipnats_options *opts, int enabled);
/** Dot-separated tokens of A-Za-z0-9-_ ("sip", "acme.sip"), at most SIPNATS_MAX_PREFIX_LEN. */
sipnats_status sipnats_options_set_prefix(sipnats_options *opts, const char *prefix);
/** Instance / node id of this process (any bytes up to SIPNATS_MAX_TOKEN_LEN; encoded). */
sipnats_status sipnats_options_set_instance(sipnats_options *opts, const char *instance);

/* ------------------------------------------------------------------------------------------ */
/* Client                                                                                      */

typedef struct sipnats_client sipnats_client;

/**
 * Event callback. `event` names what happened:
 *  - "sip_rx" / "sip_tx": a raw SIP message received / sent by a transport (payload: the bytes);
 *  - "call.<event>" / "reg.<event>": a call or registration event (payload: JSON), event is
 *    the subject suffix, e.g. "call.offer", "reg.registered";
 *  - the subject itself for sipnats_client_subscribe() subscriptions;
 *  - "nats.connected", "nats.disconnected", "nats.reconnected", "nats.closed",
 *    "nats.error": connection state (payload: server URL or error text, may be empty).
 * See the threading contract at the top of this file.
 */
typedef void (*sipnats_event_cb)(const char *event, const char *payload, size_t len, void *user);

/** Create a client from options (copied; `opts` may be destroyed afterwards). No I/O. */
sipnats_status sipnats_client_create(sipnats_client **out, const sipnats_options *opts);

/** Start connecting without blocking beyond one connect attempt per server (connect timeout):
 * returns SIPNATS_OK when connected at once, or SIPNATS_OK as well when the first attempt
 * failed and libnats retries in the background per the reconnect policy ("nats.connected"
 * arrives later). Subscriptions and publishes made before the connection is up are buffered.
 * Bad credentials or TLS setup fail here. Call at most once. */
sipnats_status sipnats_client_connect(sipnats_client *c);

/** 1 when the connection is up now, 0 otherwise. */
int sipnats_client_is_connected(sipnats_client *c);

/** Set (replace) the callback; waits for in-flight deliveries of the previous one. */
sipnats_status sipnats_client_set_callback(sipnats_client *c, sipnats_event_cb cb, void *user);
/** Clear the callback; waits until no delivery is running. Messages arriving afterwards are
 * dropped (subscriptions stay). */
sipnats_status sipnats_client_clear_callback(sipnats_client *c);

/** Which raw stream sipnats_client_subscribe_sip() taps. */
#define SIPNATS_SIP_RX 0 /**< <prefix>.raw.in.<instance>, event "sip_rx" */
#define SIPNATS_SIP_TX 1 /**< <prefix>.raw.out.<instance>, event "sip_tx" */

/** Subscribe to raw SIP of one transport instance (NULL: all instances), optionally in a queue
 * group (NULL: none). On success *sub_id (may be NULL) receives an id for unsubscribe. */
sipnats_status sipnats_client_subscribe_sip(sipnats_client *c, int direction,
                                            const char *instance, const char *queue,
                                            int *sub_id);
/** Subscribe to call events: `event` is one name ("offer") or NULL for all. */
sipnats_status sipnats_client_subscribe_call_events(sipnats_client *c, const char *event,
                                                    const char *queue, int *sub_id);
/** Subscribe to registration events: `event` is one name ("registered") or NULL for all. */
sipnats_status sipnats_client_subscribe_reg_events(sipnats_client *c, const char *event,
                                                   const char *queue, int *sub_id);
/** Subscribe to any subject (wildcards allowed); the event name is the message subject. */
sipnats_status sipnats_client_subscribe(sipnats_client *c, const char *subject,
                                        const char *queue, int *sub_id);
/** Remove a subscription. Deliveries already running may finish; none start afterwards. */
sipnats_status sipnats_client_unsubscribe(sipnats_client *c, int sub_id);

/** Publish `len` bytes. `headers` holds `header_count` name/value pairs
 * (headers[2*i] = name, headers[2*i+1] = value) or is NULL. */
sipnats_status sipnats_client_publish(sipnats_client *c, const char *subject, const void *data,
                                      size_t len, const char *const *headers, int header_count);
/** Flush buffered publishes to the server, waiting at most timeout_ms. */
sipnats_status sipnats_client_flush(sipnats_client *c, int64_t timeout_ms);

/** Request/reply. On SIPNATS_OK *reply holds a malloc'ed copy of the reply (NUL-terminated for
 * convenience, not counted in *reply_len); free it with sipnats_free(). No subscriber gives
 * SIPNATS_ERR_NO_RESPONDERS, no reply in time SIPNATS_ERR_TIMEOUT. */
sipnats_status sipnats_client_request(sipnats_client *c, const char *subject, const void *data,
                                      size_t len, int64_t timeout_ms, char **reply,
                                      size_t *reply_len);
/** Free memory returned by this library. NULL is fine. */
void sipnats_free(void *p);

/** Hand a SIP message to the transport: wraps it as the OutMessage JSON
 * {"v":1,"kind":"request"|"response","raw":"<base64>"}. With instance NULL the message must be a
 * request and goes to <prefix>.out (queue group "transport"); otherwise to
 * <prefix>.out.<instance> (responses must name the instance that owns the transaction). */
sipnats_status sipnats_client_send_sip(sipnats_client *c, const char *instance, const void *raw,
                                       size_t len);

/**
 * Send a call command and wait for its reply: request to <prefix>.cmd.call.<action> with
 * {"v":1,"call":"<call_id>","action":"<action>"[,"sdp":"..."][,<extra_json members>]}.
 * `sdp` and `extra_json` may be NULL; extra_json, when given, is a JSON object text whose
 * members are appended (e.g. {"code":486,"reason":"Busy"}). Strings are JSON-escaped.
 * Returns SIPNATS_OK for a reply with "ok":true, SIPNATS_ERR_REJECTED for "ok":false and
 * SIPNATS_ERR_PROTOCOL for a reply that is not a CommandReply; in these three cases *reply (when
 * reply and reply_len are not NULL) receives the reply JSON, to free with sipnats_free().
 */
sipnats_status sipnats_client_call_command(sipnats_client *c, const char *call_id,
                                           const char *action, const char *sdp,
                                           const char *extra_json, int64_t timeout_ms,
                                           char **reply, size_t *reply_len);

/** Drain: stop subscriptions after delivering what is pending, flush publishes, close.
 * Blocks up to timeout_ms for the close. Refused (SIPNATS_ERR_ILLEGAL_STATE) on a callback
 * thread. After drain, only destroy is useful. */
sipnats_status sipnats_client_drain(sipnats_client *c, int64_t timeout_ms);
/** Close at once (pending messages are dropped). Refused on a callback thread. */
sipnats_status sipnats_client_close(sipnats_client *c);
/** Close if needed, wait for libnats to stop calling back, free everything. NULL is fine.
 * Refused (returns SIPNATS_ERR_ILLEGAL_STATE, frees nothing) on a callback thread. */
sipnats_status sipnats_client_destroy(sipnats_client *c);

/** Last libnats error text of this client (static storage of the client; "" if none). */
const char *sipnats_client_last_error(sipnats_client *c);

/** Counters of a client. */
typedef struct sipnats_stats {
    uint64_t delivered;   /**< callbacks made for messages */
    uint64_t dropped;     /**< messages with no callback set, or over the size bound */
    uint64_t reconnects;
} sipnats_stats;
sipnats_status sipnats_client_stats(sipnats_client *c, sipnats_stats *out);

/* ------------------------------------------------------------------------------------------ */
/* Inside a callback (valid only on the callback thread, only during the callback)            */

/** Value of a NATS header of the message being delivered; SIPNATS_ERR_NOT_FOUND if absent,
 * SIPNATS_ERR_ILLEGAL_STATE outside a message callback. The value lives as long as the
 * callback. */
sipnats_status sipnats_callback_header(const char *name, const char **value);
/** Reply subject of the message being delivered (SIPNATS_ERR_NOT_FOUND when it has none). */
sipnats_status sipnats_callback_reply_subject(const char **subject);
/** 1 when the calling thread is inside a libsipnats callback. */
int sipnats_callback_active(void);

/* ------------------------------------------------------------------------------------------ */
/* Utilities (pure, thread-safe)                                                               */

/** Encode a subject token: A-Za-z0-9-_ kept, every other byte as %XX (upper-case hex).
 * Writes a NUL-terminated string; SIPNATS_ERR_TOO_LARGE if it does not fit in out_size. */
sipnats_status sipnats_util_encode_token(const char *in, size_t in_len, char *out,
                                         size_t out_size);
/** Decode a token encoded as above; SIPNATS_ERR_INVALID_ARG on malformed input. */
sipnats_status sipnats_util_decode_token(const char *in, char *out, size_t out_size,
                                         size_t *out_len);
/** Standard base64 (with padding); writes a NUL-terminated string. */
sipnats_status sipnats_util_base64_encode(const void *in, size_t len, char *out,
                                          size_t out_size);
/** Bytes needed for sipnats_util_base64_encode of len bytes, NUL included. */
size_t sipnats_util_base64_size(size_t len);
/** Append `s` as a quoted JSON string to out (at *pos); escapes ", \, control bytes.
 * Non-UTF-8 input bytes are rejected with SIPNATS_ERR_INVALID_ARG. */
sipnats_status sipnats_util_json_quote(const char *s, size_t len, char *out, size_t out_size,
                                       size_t *pos);

#ifdef __cplusplus
}
#endif

#endif /* LIBSIPNATS_H */
