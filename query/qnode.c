/* qnode.c - see qnode.h. */
#include "qnode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_buf.h"
#include "cxs_grow.h"

cxs_qnode *cxs_qnode_new(cxs_qop op) {
    cxs_qnode *q = calloc(1, sizeof *q);
    if (q) {
        q->op = op;
        q->wqf = 1;
        q->scale = 1.0;
    }
    return q;
}

cxs_qnode *cxs_qnode_term(cxs_qop op, const char *prefix, const char *term,
                          size_t len) {
    cxs_qnode *q = cxs_qnode_new(op);
    if (!q)
        return NULL;
    size_t plen = prefix ? strlen(prefix) : 0;
    q->term = malloc(plen + len + 1);
    if (!q->term) {
        free(q);
        return NULL;
    }
    if (plen)
        memcpy(q->term, prefix, plen);
    if (len)
        memcpy(q->term + plen, term, len);
    q->term[plen + len] = '\0';
    q->term_len = plen + len;
    return q;
}

cxs_qnode *cxs_qnode_range(unsigned slot, const char *lo, const char *hi) {
    cxs_qnode *q = cxs_qnode_new(CXS_Q_RANGE);
    if (!q)
        return NULL;
    q->slot = slot;
    q->lo = lo ? strdup(lo) : NULL;
    q->hi = hi ? strdup(hi) : NULL;
    if ((lo && !q->lo) || (hi && !q->hi)) {
        cxs_qnode_free(q);
        return NULL;
    }
    return q;
}

cxs_qnode *cxs_qnode_scale(cxs_qnode *kid, double scale) {
    cxs_qnode *q = cxs_qnode_new(CXS_Q_SCALE);
    if (!q) {
        cxs_qnode_free(kid);
        return NULL;
    }
    q->scale = scale;
    if (cxs_qnode_add(q, kid) != CXS_OK) {
        cxs_qnode_free(q);
        return NULL;
    }
    return q;
}

cxs_status cxs_qnode_add(cxs_qnode *parent, cxs_qnode *kid) {
    if (!kid)
        return CXS_ERR_NOMEM;
    cxs_status rc = CXS_GROW(parent->kids, parent->cap, parent->nkids + 1);
    if (rc != CXS_OK) {
        cxs_qnode_free(kid);
        return rc;
    }
    parent->kids[parent->nkids++] = kid;
    return CXS_OK;
}

void cxs_qnode_free(cxs_qnode *q) {
    if (!q)
        return;
    for (size_t i = 0; i < q->nkids; i++)
        cxs_qnode_free(q->kids[i]);
    free(q->kids);
    free(q->term);
    free(q->lo);
    free(q->hi);
    free(q);
}

cxs_qnode *cxs_qnode_clone(const cxs_qnode *q) {
    cxs_qnode *c = cxs_qnode_new(q->op);
    if (!c)
        return NULL;
    c->wqf = q->wqf;
    c->scale = q->scale;
    c->window = q->window;
    c->slot = q->slot;
    c->term_len = q->term_len;
    c->term = q->term ? cxs_strndup(q->term, q->term_len) : NULL;
    c->lo = q->lo ? strdup(q->lo) : NULL;
    c->hi = q->hi ? strdup(q->hi) : NULL;
    if ((q->term && !c->term) || (q->lo && !c->lo) || (q->hi && !c->hi))
        goto fail;
    for (size_t i = 0; i < q->nkids; i++)
        if (cxs_qnode_add(c, cxs_qnode_clone(q->kids[i])) != CXS_OK)
            goto fail;
    return c;
fail:
    cxs_qnode_free(c);
    return NULL;
}

static const char *qop_name(cxs_qop op) {
    static const char *const names[] = {
        "TERM", "AND",   "OR",    "AND_NOT", "AND_MAYBE", "SYN",   "PHRASE",
        "NEAR", "SCALE", "FILTER", "RANGE",  "PREFIX",    "ALL",   "NOTHING"};
    return (unsigned)op < sizeof names / sizeof *names ? names[op] : "?";
}

static void describe(const cxs_qnode *q, cxs_buf *b) {
    switch (q->op) {
    case CXS_Q_TERM: cxs_buf_append(b, q->term, q->term_len); return;
    case CXS_Q_PREFIX:
        cxs_buf_append(b, q->term, q->term_len);
        cxs_buf_appendc(b, '*');
        return;
    case CXS_Q_ALL:
    case CXS_Q_NOTHING: cxs_buf_appends(b, qop_name(q->op)); return;
    case CXS_Q_RANGE:
        cxs_buf_appendf(b, "(RANGE %u %s..%s)", q->slot, q->lo ? q->lo : "",
                        q->hi ? q->hi : "");
        return;
    default: break;
    }
    cxs_buf_appendf(b, "(%s", qop_name(q->op));
    if (q->op == CXS_Q_SCALE)
        cxs_buf_appendf(b, " %g", q->scale);
    if ((q->op == CXS_Q_PHRASE || q->op == CXS_Q_NEAR) && q->window)
        cxs_buf_appendf(b, "/%u", q->window);
    for (size_t i = 0; i < q->nkids; i++) {
        cxs_buf_appendc(b, ' ');
        describe(q->kids[i], b);
    }
    cxs_buf_appendc(b, ')');
}

size_t cxs_qnode_describe(const cxs_qnode *q, char *buf, size_t cap) {
    cxs_buf b = CXS_BUF_INIT;
    if (q)
        describe(q, &b); /* appends unchecked: the status is, once */
    size_t len = cxs_buf_status(&b) == CXS_OK ? b.len : 0;
    size_t n = len < cap ? len : (cap ? cap - 1 : 0);
    if (cap) {
        if (n)
            memcpy(buf, b.data, n);
        buf[n] = '\0';
    }
    cxs_buf_release(&b);
    return n;
}
