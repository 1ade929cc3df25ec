/* Starts and stops a private nats-server for the client tests. */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

test_server g_server;

void t_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int64_t t_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int test_server_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int port = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a;
    int ok, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

int test_server_start(test_server *s, int port)
{
    char port_s[16];
    pid_t pid;
    if (port == 0)
        port = test_server_free_port();
    if (port <= 0)
        return -1;
    snprintf(port_s, sizeof(port_s), "%d", port);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Never outlive the test binary, even when it crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
            close(devnull);
        }
        execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port_s, (char *)NULL);
        _exit(127);
    }
    s->pid = (int)pid;
    s->port = port;
    for (int i = 0; i < 200; i++) {
        int status;
        if (port_open(port))
            return 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            return -1;
        }
        t_sleep_ms(25);
    }
    test_server_stop(s, SIGKILL);
    return -1;
}

void test_server_stop(test_server *s, int sig)
{
    int status;
    if (s->pid <= 0)
        return;
    kill((pid_t)s->pid, sig);
    while (waitpid((pid_t)s->pid, &status, 0) < 0 && errno == EINTR) {
    }
    s->pid = 0;
}

void test_server_url(const test_server *s, char *out, size_t size)
{
    snprintf(out, size, "nats://127.0.0.1:%d", s->port);
}
