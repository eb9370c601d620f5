/*
 * sphinxql_load.c - a closed-loop load generator for Sphinx's searchd over
 * SphinxQL (the MySQL 4.1 wire protocol), the peer's counterpart of wrk.
 *
 *   sphinxql_load HOST PORT CONNECTIONS SECONDS STATEMENTS_FILE
 *   sphinxql_load HOST PORT 1 each STATEMENTS_FILE
 *
 * Each of CONNECTIONS threads keeps one connection and sends the statements
 * of the file (one per line) in turn, starting at a different line, for
 * SECONDS (0: one statement each, to time a first answer); it then prints one JSON object: requests, errors, qps and the
 * latency percentiles p50/p95/p99 in milliseconds. With "each" instead of
 * SECONDS, one connection sends every statement once, in file order, and
 * prints one line per statement: milliseconds, rows returned, status
 * (0 ok, 1 SQL error, -1 connection broken): latency and hits per query
 * kind for the report.
 *
 * Facts that shaped it: the Sphinx figures came from a C client, so
 * a Python client (slower than the server on 2 shared cores) would
 * understate Sphinx; searchd accepts any user without a password, so the
 * handshake sends an empty auth response; a result set ends with the second
 * EOF packet (0xFE with a payload under 9 bytes), an error with 0xFF.
 * Compiled by bench/run with `cc -O2 -pthread` (not part of the CMake
 * build: it is a benchmark tool for a peer, and needs no cxsearch code).
 * Every wait is bounded: sockets have a 10 s receive timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct worker {
    pthread_t th;
    int index;
    double *lat; /* milliseconds */
    size_t nlat, cap;
    long errors;
} worker;

static const char *g_host;
/* g_ready: all connected before the clock starts; g_go: g_end is set */
static pthread_barrier_t g_ready, g_go;
static int g_port;
static double g_end;
static char **g_stmts;
static size_t g_nstmts;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_full(int fd, unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads one packet; returns its payload length or -1. */
static long read_packet(int fd, unsigned char **buf, size_t *cap) {
    unsigned char h[4];
    if (read_full(fd, h, 4) != 0)
        return -1;
    size_t len = h[0] | (h[1] << 8) | ((size_t)h[2] << 16);
    if (len + 1 > *cap) {
        unsigned char *nb = realloc(*buf, len + 1);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = len + 1;
    }
    if (read_full(fd, *buf, len) != 0)
        return -1;
    return (long)len;
}

static int send_packet(int fd, unsigned seq, const void *p, size_t n) {
    unsigned char *b = malloc(n + 4);
    if (!b)
        return -1;
    b[0] = n & 0xff;
    b[1] = (n >> 8) & 0xff;
    b[2] = (n >> 16) & 0xff;
    b[3] = seq & 0xff;
    memcpy(b + 4, p, n);
    ssize_t w = send(fd, b, n + 4, MSG_NOSIGNAL);
    free(b);
    return w == (ssize_t)(n + 4) ? 0 : -1;
}

static int connect_sphinx(unsigned char **buf, size_t *cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    if (inet_pton(AF_INET, g_host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    if (read_packet(fd, buf, cap) < 0) /* server greeting */
        goto fail;
    unsigned char resp[64] = {0};
    uint32_t caps = 0x0200 | 0x8000 | 0x0001; /* 4.1, secure conn, long pw */
    memcpy(resp, &caps, 4);                   /* little-endian host */
    uint32_t maxpkt = 1u << 24;
    memcpy(resp + 4, &maxpkt, 4);
    resp[8] = 33; /* utf8_general_ci */
    memcpy(resp + 32, "bench", 6);
    resp[38] = 0; /* empty auth response */
    if (send_packet(fd, 1, resp, 39) != 0)
        goto fail;
    long n = read_packet(fd, buf, cap);
    if (n < 1 || (*buf)[0] != 0x00)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* Sends one statement and reads the whole answer; 0 ok, 1 SQL error,
 * -1 connection broken. *rows: the rows of the result set (the packets
 * between the end of the column definitions and the final EOF). */
static int query(int fd, const char *sql, unsigned char **buf, size_t *cap,
                 long *rows) {
    size_t n = strlen(sql);
    unsigned char *p = malloc(n + 1);
    if (!p)
        return -1;
    p[0] = 0x03; /* COM_QUERY */
    memcpy(p + 1, sql, n);
    int rc = send_packet(fd, 0, p, n + 1);
    free(p);
    if (rc != 0)
        return -1;
    long len = read_packet(fd, buf, cap);
    if (len < 1)
        return -1;
    if ((*buf)[0] == 0xff)
        return 1;
    if ((*buf)[0] == 0x00)
        return 0;
    int eofs = 0;
    *rows = 0;
    while (eofs < 2) {
        len = read_packet(fd, buf, cap);
        if (len < 1)
            return -1;
        if ((*buf)[0] == 0xff)
            return 1;
        if ((*buf)[0] == 0xfe && len < 9)
            eofs++;
        else if (eofs == 1)
            (*rows)++;
    }
    return 0;
}

static int push_lat(worker *w, double ms) {
    if (w->nlat == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 65536;
        double *nl = realloc(w->lat, nc * sizeof *nl);
        if (!nl)
            return -1;
        w->lat = nl;
        w->cap = nc;
    }
    w->lat[w->nlat++] = ms;
    return 0;
}

static void *work(void *arg) {
    worker *w = arg;
    unsigned char *buf = NULL;
    size_t cap = 0;
    size_t i = (size_t)w->index * 7919u % g_nstmts;
    int fd = connect_sphinx(&buf, &cap);
    pthread_barrier_wait(&g_ready);
    pthread_barrier_wait(&g_go);
    int once = g_end == 0; /* SECONDS 0: one statement per connection */
    while (fd >= 0 && (once ? once-- : now_s() < g_end)) {
        double t0 = now_s();
        long rows;
        int rc = query(fd, g_stmts[i], &buf, &cap, &rows);
        double ms = (now_s() - t0) * 1000.0;
        i = (i + 1) % g_nstmts;
        if (rc < 0) {
            w->errors++;
            close(fd);
            fd = connect_sphinx(&buf, &cap);
            continue;
        }
        if (rc > 0)
            w->errors++;
        else if (push_lat(w, ms) != 0)
            break;
    }
    if (fd < 0)
        w->errors++;
    else
        close(fd);
    free(buf);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p) {
    if (n == 0)
        return -1;
    double r = p / 100.0 * (double)n; /* nearest rank: ceil(p n / 100) */
    size_t k = (size_t)r;
    if ((double)k < r)
        k++;
    k = k < 1 ? 1 : (k > n ? n : k);
    return v[k - 1];
}

static int load_statements(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        char **ns = realloc(g_stmts, (g_nstmts + 1) * sizeof *ns);
        if (!ns)
            break;
        g_stmts = ns;
        g_stmts[g_nstmts++] = strdup(line);
    }
    free(line);
    fclose(f);
    return g_nstmts > 0 ? 0 : -1;
}

/* "each": every statement once, in order, over one connection. */
static int run_each(void) {
    unsigned char *buf = NULL;
    size_t cap = 0;
    int fd = connect_sphinx(&buf, &cap);
    for (size_t i = 0; i < g_nstmts; i++) {
        long rows = 0;
        int rc = fd < 0 ? -1 : 0;
        double t0 = now_s();
        if (rc == 0)
            rc = query(fd, g_stmts[i], &buf, &cap, &rows);
        printf("%.3f %ld %d\n", (now_s() - t0) * 1000.0, rows, rc);
        if (rc < 0) {
            if (fd >= 0)
                close(fd);
            fd = connect_sphinx(&buf, &cap);
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[4], "each") == 0) {
        g_host = argv[1];
        g_port = atoi(argv[2]);
        if (load_statements(argv[5]) != 0)
            return 2;
        return run_each();
    }
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT CONNECTIONS SECONDS FILE\n",
                argv[0]);
        return 2;
    }
    g_host = argv[1];
    g_port = atoi(argv[2]);
    int conns = atoi(argv[3]);
    double secs = atof(argv[4]);
    if (conns < 1 || conns > 1024 || secs < 0 || secs > 3600 ||
        load_statements(argv[5]) != 0) {
        fprintf(stderr, "bad arguments or empty statement file\n");
        return 2;
    }
    worker *ws = calloc((size_t)conns, sizeof *ws);
    if (!ws)
        return 1;
    if (pthread_barrier_init(&g_ready, NULL, (unsigned)conns + 1) != 0 ||
        pthread_barrier_init(&g_go, NULL, (unsigned)conns + 1) != 0)
        return 1;
    for (int i = 0; i < conns; i++) {
        ws[i].index = i;
        if (pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0)
            return 1;
    }
    pthread_barrier_wait(&g_ready);
    double t0 = now_s();
    g_end = secs > 0 ? t0 + secs : 0;
    pthread_barrier_wait(&g_go);
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(ws[i].th, NULL);
        total += ws[i].nlat;
        errors += ws[i].errors;
    }
    double elapsed = now_s() - t0;
    double *all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return 1;
    size_t k = 0;
    for (int i = 0; i < conns; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
        k += ws[i].nlat;
        free(ws[i].lat);
    }
    qsort(all, total, sizeof *all, cmp_double);
    printf("{\"requests\": %zu, \"errors\": %ld, \"elapsed_s\": %.3f, "
           "\"qps\": %.1f, \"p50_ms\": %.3f, \"p95_ms\": %.3f, "
           "\"p99_ms\": %.3f}\n",
           total, errors, elapsed, (double)total / elapsed,
           pct(all, total, 50), pct(all, total, 95), pct(all, total, 99));
    free(all);
    free(ws);
    return total > 0 ? 0 : 1;
}
