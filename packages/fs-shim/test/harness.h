/* Minimal C test harness: named test cases, CHECK macros, an event recorder, a nats-server. */
#ifndef SIPNATS_TEST_HARNESS_H
#define SIPNATS_TEST_HARNESS_H

#include "libsipnats.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*test_fn)(void);
typedef struct test_case {
    const char *name;
    test_fn fn;
} test_case;

void t_fail(const char *file, int line, const char *expr, const char *detail);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            t_fail(__FILE__, __LINE__, #c, NULL);                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expected, expr)                                                               \
    do {                                                                                           \
        sipnats_status s_ = (expr);                                                                \
        if (s_ != (expected)) {                                                                    \
            t_fail(__FILE__, __LINE__, #expr, sipnats_status_text(s_));                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(SIPNATS_OK, expr)

/* Suites. */
extern const test_case json_tests[];
extern const size_t json_tests_count;
extern const test_case core_tests[];
extern const size_t core_tests_count;
extern const test_case client_tests[];
extern const size_t client_tests_count;

/* The shared nats-server of the client tests. */
typedef struct test_server {
    int pid;
    int port;
} test_server;
int test_server_free_port(void);
/* Start nats-server on port (0: a free one); waits until it accepts connections. 0 on success. */
int test_server_start(test_server *s, int port);
/* Stop with the signal (SIGTERM, SIGKILL) and reap it. */
void test_server_stop(test_server *s, int sig);
extern test_server g_server;
/* "nats://127.0.0.1:<port>" of a server. */
void test_server_url(const test_server *s, char *out, size_t size);

void t_sleep_ms(int64_t ms);
int64_t t_now_ms(void);

/* Records callback events (bounded) for assertions from the test thread. */
#define REC_MAX 512
typedef struct rec_event {
    char event[128];
    char *payload;
    size_t len;
    char header[128]; /* value of rec->header_name, when asked for */
} rec_event;
typedef struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    rec_event events[REC_MAX];
    int count;
    int overflow;
    const char *header_name;
} recorder;
void rec_init(recorder *r);
void rec_free(recorder *r);
void rec_cb(const char *event, const char *payload, size_t len, void *user);
/* Number of recorded events named `event` (prefix match when it ends with '*'). */
int rec_count(recorder *r, const char *event);
/* Wait until rec_count(event) >= n; 1 on success. */
int rec_wait(recorder *r, const char *event, int n, int64_t timeout_ms);
/* Index of the i-th event named `event`, -1 if none. */
int rec_find(recorder *r, const char *event, int i);

#endif
