/*
 * fuzz_http.c - libFuzzer target for cxsearchd's request handling: the
 * real HTTP layer (the cxs_server library: every server/ source but
 * main.c) runs in-process on a loopback port over an index of the sample
 * corpus, and each input becomes one HTTP request whose answer is checked.
 *
 * Facts that shaped it: the search parameters and JSON bodies are parsed
 * by static functions that need a live request (cxs_req, libmicrohttpd),
 * so there is no pure entry point to call; going through the socket
 * fuzzes exactly what a client reaches (routing, %-decoding, keys,
 * Content-Type checks, parameters, JSON and JSON Lines bodies, searches,
 * writes, static files). The pure helpers (cxs_http_parse_query,
 * cxs_http_decode, cxs_route_find) and cxs_post_from_json are also called
 * directly on the same bytes, which is cheap and gives the fuzzer finer
 * coverage feedback.
 *
 * Input: byte 0 picks the method (bits 0-2), the key sent (bits 3-4:
 * none, the write key, a wrong key), the Content-Type (bits 5-6: JSON,
 * JSON Lines, text/plain, none) and an Origin header (bit 7). Then the
 * request target up to the first '\n' (bytes the request line cannot hold
 * are %-encoded, so NULs and spaces reach the daemon's decoder), then the
 * body.
 *
 * Invariants (besides ASan/UBSan in the daemon's threads): an answer
 * comes within 10 s (else abort: a hang); its status is never 5xx; a JSON
 * answer parses (jansson also checks it is valid UTF-8). libFuzzer's
 * -timeout runs a SIGALRM timer: socket calls here retry on EINTR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <microhttpd.h>

#include "config.h"
#include "fuzz_util.h"
#include "http.h"
#include "routes.h"
#include "server.h"

#define WRITE_KEY "fuzz-write-key-0123"
#define MAX_ANSWER (4u << 20)

static unsigned g_port;

static void write_config(const char *path) {
    FILE *f = fopen(path, "w");
    FUZZ_ASSERT(f != NULL, "config file");
    fprintf(f,
            "[server]\nthreads = 2\n"
            "[limits]\nmax_body_bytes = 64k\nconnection_timeout = 5\n"
            "[security]\nwrite_key = " WRITE_KEY "\n"
            "cors_origins = https://allowed.example\n"
            "[search]\nsynonyms = %s/config/synonyms.txt\n"
            "[files]\nweb_dir = %s/web\naccess_log = off\n",
            CXS_SOURCE_DIR, CXS_SOURCE_DIR);
    FUZZ_ASSERT(fclose(f) == 0, "config file written");
}

static void start_daemon(void) {
    static char conf[160];
    static const char *dbs[1];
    static cxs_server srv;
    static cxs_server_args args;
    struct MHD_Daemon *d = NULL;
    cxs_server_config *cfg = NULL;
    cxs_err err = {0};
    snprintf(conf, sizeof conf, "%s/cxsearchd.conf", fuzz_tmpdir());
    write_config(conf);
    dbs[0] = fuzz_sample_db();
    args.config_path = conf;
    args.listen = "127.0.0.1:0";
    args.dbs = dbs;
    args.ndbs = 1;
    signal(SIGPIPE, SIG_IGN);
    if (cxs_server_config_build(&args, &cfg, &err) != CXS_OK ||
        cxs_server_init(&srv, &args, cfg, &err) != CXS_OK ||
        cxs_http_start(&srv, &d, &g_port, &err) != CXS_OK) {
        fprintf(stderr, "fuzz: cxsearchd: %s\n", err.msg);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* The daemon's threads inherit a mask without SIGALRM, so libFuzzer's
     * timer only ever interrupts this thread (a real cxsearchd never gets
     * SIGALRM). */
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    start_daemon();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

/* ---------------------------------------------------- the request */

static const char *const METHODS[8] = {"GET",  "POST",    "PUT",   "DELETE",
                                       "HEAD", "OPTIONS", "PATCH", "GET"};
static const char *const CTYPES[4] = {
    "application/json", "application/x-ndjson", "text/plain", NULL};

static void append(cxs_buf *b, const char *s, size_t n) {
    FUZZ_ASSERT(cxs_buf_append(b, s, n) == CXS_OK, "buffer");
}

static void append_str(cxs_buf *b, const char *s) {
    append(b, s, strlen(s));
}

/* The target as a request line can carry it. */
static void append_target(cxs_buf *b, const char *t, size_t n) {
    if (n == 0 || t[0] != '/')
        append_str(b, "/");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        char esc[4];
        if (c <= 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "%%%02X", c);
            append_str(b, esc);
        } else {
            append(b, (const char *)&c, 1);
        }
    }
}

static void build_request(cxs_buf *b, unsigned opt, const char *target,
                          size_t tn, const char *body, size_t bn) {
    char line[128];
    append_str(b, METHODS[opt & 7]);
    append_str(b, " ");
    append_target(b, target, tn);
    append_str(b, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    unsigned key = (opt >> 3) & 3;
    if (key == 1)
        append_str(b, "Authorization: Bearer " WRITE_KEY "\r\n");
    else if (key == 2)
        append_str(b, "Authorization: Bearer not-the-key-0000\r\n");
    const char *ct = CTYPES[(opt >> 5) & 3];
    if (ct) {
        snprintf(line, sizeof line, "Content-Type: %s\r\n", ct);
        append_str(b, line);
    }
    if (opt & 0x80)
        append_str(b, "Origin: https://allowed.example\r\n");
    snprintf(line, sizeof line, "Content-Length: %zu\r\n\r\n", bn);
    append_str(b, line);
    append(b, body, bn);
}

/* ---------------------------------------------------- the exchange */

static int connect_daemon(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    FUZZ_ASSERT(fd >= 0, "socket");
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* SIGALRM (libFuzzer's -timeout check) would interrupt connect. */
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    FUZZ_ASSERT(rc == 0, "connect to the daemon");
    return fd;
}

/* Why the last exchange ended: 0 (orderly close) or recv's errno. */
static int g_recv_errno;

/* Sends req and reads the answer until the daemon closes. */
static void exchange(const cxs_buf *req, cxs_buf *ans) {
    int fd = connect_daemon();
    size_t off = 0;
    while (off < req->len) {
        ssize_t w = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* the daemon may answer (413) and close early */
        off += (size_t)w;
    }
    char chunk[16384];
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r < 0 && errno == EINTR)
            continue; /* libFuzzer's -timeout alarm (SIGALRM) */
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            FUZZ_ASSERT(0, "the daemon answers within 10 s");
        if (r <= 0) {
            g_recv_errno = r < 0 ? errno : 0;
            break;
        }
        FUZZ_ASSERT(ans->len + (size_t)r <= MAX_ANSWER, "answer size");
        append(ans, chunk, (size_t)r);
    }
    close(fd);
}

static void check_answer(const cxs_buf *req, const cxs_buf *ans, int head) {
    const char *a = ans->data ? ans->data : "";
    if (ans->len < 12)
        fprintf(stderr, "no answer (%zu bytes; %s) to:\n%.*s\n", ans->len,
                g_recv_errno ? strerror(g_recv_errno) : "closed",
                (int)(req->len < 2000 ? req->len : 2000), req->data);
    FUZZ_ASSERT(ans->len >= 12 && strncmp(a, "HTTP/1.", 7) == 0,
                "an HTTP answer");
    int status = atoi(a + 9);
    if (status >= 500)
        fprintf(stderr, "answer:\n%.*s\n",
                (int)(ans->len < 2000 ? ans->len : 2000), a);
    FUZZ_ASSERT(status >= 200 && status < 500, "never a 5xx");
    const char *end = strstr(a, "\r\n\r\n");
    FUZZ_ASSERT(end != NULL, "headers end");
    if (head || !strstr(a, "Content-Type: application/json") ||
        strstr(a, "Content-Type: application/json") > end)
        return;
    const char *body = end + 4;
    size_t bn = ans->len - (size_t)(body - a);
    json_error_t je;
    json_t *j = json_loadb(body, bn, JSON_ALLOW_NUL, &je);
    if (!j)
        fprintf(stderr, "bad JSON answer: %s\n%.*s\n", je.text,
                (int)(bn < 2000 ? bn : 2000), body);
    FUZZ_ASSERT(j != NULL, "a JSON answer parses (valid UTF-8 JSON)");
    json_decref(j);
}

/* ---------------------------------------------------- in-process */

static void direct_calls(unsigned opt, const char *t, size_t tn,
                         const char *body, size_t bn) {
    const char *qm = memchr(t, '?', tn);
    size_t pn = qm ? (size_t)(qm - t) : tn;
    cxs_route_match m;
    cxs_route_find((cxs_method)(1u << (opt & 7)), t, pn, &m);
    if (m.param)
        FUZZ_ASSERT(m.param >= t && m.param + m.param_len <= t + pn,
                    "route param inside the path");
    size_t dn = 0;
    free(cxs_http_decode(t, pn, 0, 1, &dn));
    if (qm) {
        cxs_param *ps = NULL;
        size_t np = 0;
        if (cxs_http_parse_query(qm + 1, tn - pn - 1, 64, &ps, &np, NULL) ==
            CXS_OK)
            cxs_http_params_free(ps, np);
    }
    json_t *j = json_loadb(body, bn, 0, NULL);
    if (j && json_is_object(j)) {
        cxs_post p = CXS_POST_INIT;
        cxs_err err = {0};
        if (cxs_post_from_json(j, &p, &err) == CXS_OK)
            cxs_post_release(&p);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    const char *t = (const char *)data + 1;
    const char *nl = memchr(t, '\n', size - 1);
    size_t tn = nl ? (size_t)(nl - t) : size - 1;
    const char *body = nl ? nl + 1 : t + tn;
    size_t bn = size - 1 - tn - (nl ? 1 : 0);
    direct_calls(opt, t, tn, body, bn);
    cxs_buf req, ans;
    cxs_buf_init(&req, 0);
    cxs_buf_init(&ans, 0);
    build_request(&req, opt, t, tn, body, bn);
    exchange(&req, &ans);
    check_answer(&req, &ans, strcmp(METHODS[opt & 7], "HEAD") == 0);
    cxs_buf_release(&req);
    cxs_buf_release(&ans);
    return 0;
}
