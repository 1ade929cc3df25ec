/* Test runner: runs every suite, prints one line per test, writes "passed failed" to the file
 * named by SIPNATS_C_RESULTS (read by run-tests.sh, which prints the closing totals line). */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_failed;

void t_fail(const char *file, int line, const char *expr, const char *detail)
{
    current_failed = 1;
    printf("FAIL\n    %s:%d: %s%s%s\n", file, line, expr, detail != NULL ? " -> " : "",
           detail != NULL ? detail : "");
    fflush(stdout);
}

static void run_suite(const char *suite, const test_case *tests, size_t n, int *passed,
                      int *failed)
{
    for (size_t i = 0; i < n; i++) {
        printf("  %s: %s ... ", suite, tests[i].name);
        fflush(stdout);
        current_failed = 0;
        tests[i].fn();
        if (current_failed) {
            (*failed)++;
        } else {
            (*passed)++;
            printf("ok\n");
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    const char *results = getenv("SIPNATS_C_RESULTS");
    signal(SIGPIPE, SIG_IGN);

    if (only == NULL || strcmp(only, "json") == 0)
        run_suite("json", json_tests, json_tests_count, &passed, &failed);
    if (only == NULL || strcmp(only, "core") == 0)
        run_suite("core", core_tests, core_tests_count, &passed, &failed);
    if (only == NULL || strcmp(only, "client") == 0) {
        if (test_server_start(&g_server, 0) != 0) {
            printf("  client: cannot start nats-server ... FAIL\n");
            failed++;
        } else {
            run_suite("client", client_tests, client_tests_count, &passed, &failed);
            test_server_stop(&g_server, SIGTERM);
        }
    }
    if (results != NULL) {
        FILE *f = fopen(results, "w");
        if (f != NULL) {
            fprintf(f, "%d %d\n", passed, failed);
            fclose(f);
        }
    }
    return failed == 0 ? 0 : 1;
}
