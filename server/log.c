/*
 * log.c - diagnostics and the JSON access log (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cxs_log_init(cxs_log *l) {
    atomic_init(&l->fd, -1);
    l->file_fd = -1;
}

cxs_status cxs_log_open(cxs_log *l, const char *path, cxs_err *err) {
    if (!path) {
        atomic_store(&l->fd, -1);
        return CXS_OK;
    }
    if (strcmp(path, "-") == 0) {
        atomic_store(&l->fd, STDERR_FILENO);
        return CXS_OK;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return cxs_err_set(err, CXS_ERR_IO, "access log %s: %s", path,
                           strerror(errno));
    if (l->file_fd < 0) {
        l->file_fd = fd;
    } else {
        /* Swap the file under the fixed descriptor: a thread writing now
         * writes to the old file or the new one, never to a closed fd. */
        if (dup2(fd, l->file_fd) < 0) {
            int e = errno;
            close(fd);
            return cxs_err_set(err, CXS_ERR_IO, "access log %s: %s", path,
                               strerror(e));
        }
        close(fd);
    }
    atomic_store(&l->fd, l->file_fd);
    return CXS_OK;
}

void cxs_log_close(cxs_log *l) {
    atomic_store(&l->fd, -1);
    if (l->file_fd >= 0)
        close(l->file_fd);
    l->file_fd = -1;
}

static void write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a full disk must not stop the server */
        s += w;
        n -= (size_t)w;
    }
}

void cxs_log_access(cxs_log *l, const json_t *obj) {
    int fd = atomic_load(&l->fd);
    if (fd < 0)
        return;
    char buf[1024];
    size_t n = json_dumpb(obj, buf, sizeof buf - 1,
                          JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (n == 0 || n >= sizeof buf - 1)
        return; /* our lines are short; never write half a line */
    buf[n++] = '\n';
    write_all(fd, buf, n);
}

void cxs_log_msg(const char *level, const char *fmt, ...) {
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "cxsearchd: %s: ", level);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof buf)
        n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf - 1)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    write_all(STDERR_FILENO, buf, (size_t)n);
}
