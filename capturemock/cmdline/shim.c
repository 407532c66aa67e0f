/* Native command shim for capturemock: the same client as shim.py (wire format described there),
 * compiled once per source hash so that a replayed command costs a connect and a few writes instead
 * of an interpreter start-up (product spec §3, "Fast replay"). One binary, installed under the name
 * of every intercepted program; the program name is the basename of argv[0]. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NSIG
#define NSIG 65
#endif

extern char **environ;

static const char MAGIC[] = "CAPTUREMOCK_SHIM/1\n";
static const char *program = "";
static volatile pid_t child = 0;
static pid_t parent = 0; /* the SUT, as found at start */
static int add_newline = 0; /* the server's 'N' frame: end output with a newline as 2.10 records it */

typedef struct { char *data; size_t len, cap; } buffer;

static void fail(const char *what) {
    fprintf(stderr, "CaptureMock shim for '%s': %s\n", program, what);
    exit(1);
}

static void append(buffer *b, const void *data, size_t len) {
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 4096;
        b->data = realloc(b->data, b->cap);
        if (!b->data) fail("out of memory");
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void append_u32(buffer *b, uint32_t value) {
    uint32_t net = htonl(value);
    append(b, &net, 4);
}

static void append_field(buffer *b, const char *data, size_t len) {
    append_u32(b, (uint32_t)len);
    append(b, data, len);
}

static void append_frame(buffer *b, char kind, const char *data, size_t len) {
    append(b, &kind, 1);
    append_field(b, data, len);
}

/* Writes to the socket use send(MSG_NOSIGNAL): a dead server must give an error, not SIGPIPE.
 * Returns 0 when the reader has gone away (EPIPE), so that the caller can act as a program would on
 * SIGPIPE; other errors lose the output, as they would for the program itself. */
static int write_all(int fd, const char *data, size_t len, int is_socket) {
    while (len) {
        ssize_t n = is_socket ? send(fd, data, len, MSG_NOSIGNAL) : write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return !(n < 0 && errno == EPIPE);
        data += n;
        len -= (size_t)n;
    }
    return 1;
}

/* How long the shim waits for others (CAPTUREMOCK_SHIM_TIMEOUT seconds, as in shim.py): for the server
 * to say anything (it answers at once, so only a hung server takes longer), and, replaying a command
 * recorded as killed, for the SUT's signal. Either way the SUT must not wait for ever. */
static double answer_timeout(void) {
    const char *text = getenv("CAPTUREMOCK_SHIM_TIMEOUT");
    char *end;
    double seconds = text ? strtod(text, &end) : 0;
    if (!text || end == text || *end || !(seconds > 0)) return 600;
    return seconds < 1e7 ? seconds : 1e7; /* "inf" must not overflow the timeval */
}

static long elapsed_ms(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static int read_exact(int fd, char *data, size_t len) {
    while (len) {
        ssize_t n = read(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            char message[128];
            snprintf(message, sizeof message, "no answer from the CaptureMock server within %g s", answer_timeout());
            fail(message);
        }
        if (n <= 0) return 0;
        data += n;
        len -= (size_t)n;
    }
    return 1;
}

/* Next frame from the server; returns its kind, 0 when the server closed the connection. */
static char read_frame(int sock, buffer *payload) {
    char kind;
    uint32_t net;
    if (!read_exact(sock, &kind, 1)) return 0;
    if (!read_exact(sock, (char *)&net, 4)) fail("the CaptureMock server closed the connection mid-message");
    payload->len = 0;
    size_t len = ntohl(net);
    if (len + 1 > payload->cap) {
        payload->cap = len + 1;
        payload->data = realloc(payload->data, payload->cap);
        if (!payload->data) fail("out of memory");
    }
    if (!read_exact(sock, payload->data, len)) fail("the CaptureMock server closed the connection mid-message");
    payload->len = len;
    payload->data[len] = '\0';
    return kind;
}

static int connect_server(void) {
    const char *address = getenv("CAPTUREMOCK_SERVER");
    const char *colon = address ? strrchr(address, ':') : NULL;
    char message[512];
    if (!colon) {
        snprintf(message, sizeof message, "CAPTUREMOCK_SERVER is not set to host:port ('%s')", address ? address : "");
        fail(message);
    }
    char host[256] = "127.0.0.1";
    if (colon > address && (size_t)(colon - address) < sizeof host) {
        memcpy(host, address, (size_t)(colon - address));
        host[colon - address] = '\0';
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(colon + 1));
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || sock < 0 ||
        connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
        snprintf(message, sizeof message, "cannot reach the CaptureMock server at '%s' (%s)", address, strerror(errno));
        fail(message);
    }
    double seconds = answer_timeout();
    struct timeval limit = {(time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    return sock;
}

/* The traffic server only sends 0..255 or minus a signal that terminates a process (handler.py). */
static void die(int status) {
    fflush(NULL);
    if (status < 0) {
        sigset_t all;
        signal(-status, SIG_DFL);
        sigemptyset(&all);
        sigaddset(&all, -status);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        raise(-status);
        status = 128 - status;
    }
    _exit(status & 0xFF);
}

/* Signals one process sends another to stop it; a program dies of the others by itself (a fault,
 * SIGPIPE, its own alarm) and a replay ends by them at once. */
static int sent_by_others(int sig) {
    return sig == SIGHUP || sig == SIGINT || sig == SIGQUIT || sig == SIGKILL || sig == SIGTERM ||
           sig == SIGUSR1 || sig == SIGUSR2;
}

/* Replaying a command recorded as killed by another process, the SUT killed it while it ran: keep
 * running (as 2.10's shim does) until a signal comes, whose default action ends us by it, so that the
 * SUT finds the command as it did while recording. Not for ever: not once the SUT has gone (we were
 * re-parented), nor after the shim timeout; `die` then ends us by the recorded signal. */
static void await_signal(int status) {
    if (status >= 0 || !sent_by_others(-status)) return;
    fflush(NULL);
    if (-status != SIGKILL) signal(-status, SIG_DFL);
    sigset_t recorded;
    sigemptyset(&recorded);
    sigaddset(&recorded, -status);
    sigprocmask(SIG_UNBLOCK, &recorded, NULL);
    struct timespec start, step = {0, 50000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    double limit_ms = answer_timeout() * 1000;
    while (getppid() == parent && (double)elapsed_ms(&start) < limit_ms) nanosleep(&step, NULL);
}

static void relay(int sig) {
    if (child > 0) kill(child, sig);
}

static void child_exited(int sig) {
    (void)sig;
}

/* Recorded output is held until the program completes and then written, stdout before stderr, as 2.10
 * does and as replay does: a SUT printing while commands run prints in the same order in record and
 * replay. It is streamed from then on once it passes a pipe's capacity (a reader may be waiting for
 * more: `yes | head -1`) or once the program has run a while (a reader may wait for a "ready" line). */
#define STREAM_AFTER_BYTES 65536
#define STREAM_AFTER_MS 2000

typedef struct {
    int from;        /* the program's end of the pipe, -1 once closed */
    int to;          /* our own stdout or stderr */
    int watched;     /* `to` is polled for its reader going away */
    buffer captured;
    size_t written;  /* how much of captured went to `to` */
} stream;

/* Our reader has gone: close the program's pipe too, so that its next write there gets SIGPIPE/EPIPE,
 * just as it would without capturemock. */
static void reader_gone(stream *s) {
    if (s->from >= 0) close(s->from);
    s->from = -1;
    s->watched = 0;
    s->written = s->captured.len;
}

/* Write on what the program wrote since the last time. */
static void forward(stream *s) {
    size_t pending = s->captured.len - s->written;
    if (pending && !write_all(s->to, s->captured.data + s->written, pending, 0)) reader_gone(s);
    s->written = s->captured.len;
}

/* Read what is ready on one of the program's pipes, closing it at its end. */
static void take(stream *s) {
    char chunk[65536];
    ssize_t n = read(s->from, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) return;
    if (n > 0) {
        append(&s->captured, chunk, (size_t)n);
        return;
    }
    close(s->from);
    s->from = -1;
}

/* Wait for output of the program or for one of our readers going away, and act on it; poll's result. */
static int poll_once(stream s[2], int timeout_ms) {
    struct pollfd fds[4];
    for (int i = 0; i < 2; i++) {
        fds[i] = (struct pollfd){s[i].from, POLLIN, 0};
        fds[2 + i] = (struct pollfd){s[i].watched ? s[i].to : -1, 0, 0}; /* POLLERR: no reader left */
    }
    int ready = poll(fds, 4, timeout_ms);
    for (int i = 0; ready > 0 && i < 2; i++) {
        if (fds[2 + i].revents & POLLERR) reader_gone(&s[i]);
        else if (fds[2 + i].revents & POLLNVAL) s[i].watched = 0;
        else if (fds[i].revents) take(&s[i]);
    }
    return ready;
}

/* Until both pipes close, or until the program has exited and its pipes are drained: a background
 * process it left behind may hold them open for ever (the original shim hung there). */
static int collect(pid_t pid, stream s[2]) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0, exited = 0, streaming = 0;
    while (s[0].from >= 0 || s[1].from >= 0) {
        int ready = poll_once(s, exited ? 0 : 100);
        if (ready <= 0) {
            if (ready < 0 && errno != EINTR) break;
            if (exited) break;
            exited = waitpid(pid, &status, WNOHANG) == pid;
        }
        streaming = streaming || s[0].captured.len + s[1].captured.len > STREAM_AFTER_BYTES ||
                    elapsed_ms(&start) >= STREAM_AFTER_MS;
        for (int i = 0; streaming && i < 2; i++) forward(&s[i]);
    }
    while (!exited && waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return status;
}

/* Record mode: run the real program here, capture its output and hand it on (see `collect`); send
 * what it wrote and its status to the server. */
static void run_real_program(int sock, const char *path, char **argv) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) fail("cannot create pipes");
    pid_t pid = fork();
    if (pid < 0) fail("cannot fork");
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]); close(out[1]); close(err[0]); close(err[1]); close(sock);
        execv(path, argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    child = pid;
    close(out[1]);
    close(err[1]);
    int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++) signal(relayed[i], relay);
    struct sigaction on_child;
    memset(&on_child, 0, sizeof on_child);
    on_child.sa_handler = child_exited; /* no SA_RESTART: poll() wakes up with EINTR */
    sigaction(SIGCHLD, &on_child, NULL);
    signal(SIGPIPE, SIG_IGN); /* a vanished reader must be an error we can see (the child kept ours) */
    stream s[2] = {{out[0], 1, 1, {0}, 0}, {err[0], 2, 1, {0}, 0}};
    int status = collect(pid, s);
    for (int i = 0; i < 2; i++) forward(&s[i]); /* stdout first, as replay writes them */
    for (int i = 0; i < 2; i++) /* 2.10's record: output ends with one newline, as replay gives it (§4.3) */
        if (add_newline && s[i].captured.len && s[i].captured.data[s[i].captured.len - 1] != '\n')
            write_all(s[i].to, "\n", 1, 0);
    int code = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    char text[16];
    snprintf(text, sizeof text, "%d", code);
    buffer reply = {0};
    append_frame(&reply, 'O', s[0].captured.data, s[0].captured.len);
    append_frame(&reply, 'E', s[1].captured.data, s[1].captured.len);
    append_frame(&reply, 'X', text, strlen(text));
    write_all(sock, reply.data, reply.len, 1);
}

/* The status in an X frame: strtol with range checks, never atoi's undefined overflow. The server
 * only sends valid ones; this keeps a garbled frame from making the shim die by some random signal. */
static int exit_status(const char *text) {
    char *end;
    errno = 0;
    long status = strtol(text, &end, 10);
    if (errno || end == text || *end || status > 255 || status <= -NSIG)
        fail("the CaptureMock server sent an invalid exit status");
    return (int)status;
}

int main(int argc, char **argv) {
    const char *slash = strrchr(argv[0], '/');
    program = slash ? slash + 1 : argv[0];
    parent = getppid();
    argv[0] = (char *)program;
    int sock = connect_server();

    buffer request = {0};
    char number[32], cwd[8192];
    if (!getcwd(cwd, sizeof cwd)) fail("cannot determine the current directory");
    size_t env_count = 0;
    while (environ[env_count]) env_count++;
    append(&request, MAGIC, sizeof MAGIC - 1);
    append_u32(&request, (uint32_t)(3 + argc + env_count));
    const char *token = getenv("CAPTUREMOCK_TOKEN");
    append_field(&request, token ? token : "", token ? strlen(token) : 0);
    append_field(&request, cwd, strlen(cwd));
    snprintf(number, sizeof number, "%d", argc);
    append_field(&request, number, strlen(number));
    for (int i = 0; i < argc; i++) append_field(&request, argv[i], strlen(argv[i]));
    for (size_t i = 0; i < env_count; i++) append_field(&request, environ[i], strlen(environ[i]));
    write_all(sock, request.data, request.len, 1);

    buffer payload = {0};
    int ran = 0, status;
    for (;;) {
        char kind = read_frame(sock, &payload);
        switch (kind) {
        case 'O': write_all(1, payload.data, payload.len, 0); break;
        case 'E': write_all(2, payload.data, payload.len, 0); break;
        case 'V': putenv(strdup(payload.data)); break;
        case 'N': add_newline = 1; break;
        case 'R': run_real_program(sock, payload.data, argv); ran = 1; break;
        case 'X':
            status = exit_status(payload.data);
            if (!ran) await_signal(status);
            die(status);
            break;
        default: fail("the CaptureMock server closed the connection without an answer");
        }
    }
}
