/* Private declarations shared by the libsipnats translation units. */
#ifndef SIPNATS_INTERNAL_H
#define SIPNATS_INTERNAL_H

#include "libsipnats.h"

#include <nats/nats.h>
#include <stdbool.h>

struct sipnats_options {
    char *servers[SIPNATS_MAX_SERVERS];
    int server_count;
    char *name;
    char *creds_file;
    char *user;
    char *password;
    char *token;
    int tls;
    char *ca_file;
    int max_reconnect;
    int64_t reconnect_wait_ms;
    int64_t reconnect_jitter_ms;
    int64_t connect_timeout_ms;
    int send_asap;
    char prefix[SIPNATS_MAX_PREFIX_LEN + 1];
    char instance[SIPNATS_MAX_TOKEN_LEN * 3 + 1]; /* encoded form; "" when unset */
};

/* Deep copy of options (src must be valid). */
sipnats_status sipnats_options_clone(const sipnats_options *src, sipnats_options **out);

/* Map a libnats status to a sipnats status. */
sipnats_status sipnats_from_nats(natsStatus s);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid (overlong, surrogate,
 * above U+10FFFF, truncated). Shared by the JSON writer and the JSON reader. */
size_t sipnats_util_utf8_len(const unsigned char *s, size_t avail);

#endif
