/* cxs_err.c - see cxs_err.h. */
#include "cxs_err.h"

#include <stdarg.h>
#include <stdio.h>

cxs_status cxs_err_set(cxs_err *err, cxs_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cxs_err_clear(cxs_err *err) {
    if (err) {
        err->code = CXS_OK;
        err->msg[0] = '\0';
    }
}

const char *cxs_status_name(cxs_status code) {
    switch (code) {
    case CXS_OK: return "ok";
    case CXS_ERR_NOMEM: return "out_of_memory";
    case CXS_ERR_INVALID: return "invalid";
    case CXS_ERR_PARSE: return "parse_error";
    case CXS_ERR_IO: return "io_error";
    case CXS_ERR_NOT_FOUND: return "not_found";
    case CXS_ERR_LOCKED: return "locked";
    case CXS_ERR_INDEX: return "index_error";
    case CXS_ERR_TOO_LARGE: return "too_large";
    case CXS_ERR_INTERNAL: return "internal";
    case CXS_ERR_UNAVAILABLE: return "unavailable";
    }
    return "unknown";
}
