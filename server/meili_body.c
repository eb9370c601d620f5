/*
 * meili_body.c - the bodies Meilisearch clients send documents in, read
 * into one JSON array (see meili_docs.h).
 *
 * Facts that shaped it:
 *  - Meilisearch takes a JSON object or array, NDJSON (one object a line)
 *    and CSV. Its CSV has a header row; a name may carry a type
 *    ("price:number", "done:boolean"), other columns are strings and an
 *    empty cell is null. Quoting is RFC 4180: a quoted cell may hold the
 *    separator, line breaks and doubled quotes.
 *  - A body that does not parse is refused whole (malformed_payload, 400,
 *    naming the line), before any task is made, so nothing is half
 *    written.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cxs_buf.h"
#include "http.h"
#include "meili_docs.h"

static cxs_status from_json(const char *s, size_t n, json_t **out,
                            cxs_meili_error *e) {
    json_error_t je;
    json_t *root = json_loadb(s, n, 0, &je);
    if (!root)
        return cxs_meili_fail(e, 400, "malformed_payload",
                              "The JSON payload is not valid: line %d, column "
                              "%d: %s",
                              je.line, je.column, je.text);
    if (json_is_object(root)) {
        json_t *a = json_array();
        json_array_append_new(a, root);
        root = a;
    }
    if (!json_is_array(root)) {
        json_decref(root);
        return cxs_meili_fail(e, 400, "malformed_payload",
                              "The payload must be a JSON object or an array "
                              "of objects.");
    }
    *out = root;
    return CXS_OK;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r", s[i]))
            return 0;
    return 1;
}

static cxs_status from_ndjson(const char *s, size_t n, json_t **out,
                              cxs_meili_error *e) {
    json_t *a = json_array();
    size_t line = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
        json_error_t je;
        line++;
        json_t *o = blank(s + i, len) ? NULL : json_loadb(s + i, len, 0, &je);
        if (!blank(s + i, len) && !json_is_object(o)) {
            json_decref(o);
            json_decref(a);
            return cxs_meili_fail(e, 400, "malformed_payload",
                                  "The NDJSON payload is not valid: line %zu "
                                  "is not a JSON object.",
                                  line);
        }
        if (o)
            json_array_append_new(a, o);
        i += len + 1;
    }
    *out = a;
    return CXS_OK;
}

/* ---- CSV ---- */

typedef struct csv {
    const char *s;
    size_t n, i, line;
    char delim;
} csv;

/* Reads one cell into b; *end_row when it closed the row. -1 on a broken
 * quote, -2 out of memory. */
static int csv_cell(csv *c, cxs_buf *b, int *end_row, int *quoted) {
    b->len = 0;
    *quoted = c->i < c->n && c->s[c->i] == '"';
    if (*quoted) {
        c->i++;
        for (;;) {
            if (c->i >= c->n)
                return -1; /* the quote never closes */
            char ch = c->s[c->i++];
            if (ch == '"' && !(c->i < c->n && c->s[c->i] == '"'))
                break;
            c->i += ch == '"'; /* "" is one quote */
            c->line += ch == '\n';
            if (cxs_buf_appendc(b, ch) != CXS_OK)
                return -2;
        }
    }
    while (c->i < c->n && c->s[c->i] != c->delim && c->s[c->i] != '\n') {
        if (*quoted && c->s[c->i] != '\r')
            return -1; /* text after the closing quote */
        if (c->s[c->i] == '"')
            return -1; /* a quote inside an unquoted cell */
        if ((c->s[c->i] != '\r' ||
             (c->i + 1 < c->n && c->s[c->i + 1] != '\n')) &&
            cxs_buf_appendc(b, c->s[c->i]) != CXS_OK)
            return -2;
        c->i++;
    }
    *end_row = c->i >= c->n || c->s[c->i] == '\n';
    if (c->i < c->n && c->s[c->i] == '\n')
        c->line++;
    c->i++;
    return 0;
}

/* One row as strings (cells[0..*ncells)); 0 at the end of the input. */
static int csv_row(csv *c, json_t *cells, cxs_meili_error *e) {
    cxs_buf b = CXS_BUF_INIT;
    int end = 0, quoted, rc = 1;
    size_t start = c->line;
    json_array_clear(cells);
    if (c->i >= c->n)
        return 0;
    while (!end) {
        int cell = csv_cell(c, &b, &end, &quoted);
        if (cell == -2) {
            rc = -1;
            cxs_meili_set(e, 500, "internal", "out of memory");
            break;
        }
        if (cell != 0) {
            rc = -1;
            cxs_meili_set(e, 400, "malformed_payload",
                          "The CSV payload is not valid: line %zu: a quote "
                          "that does not close, or text after a closing "
                          "quote.",
                          start);
            break;
        }
        json_array_append_new(cells, json_stringn(b.data ? b.data : "", b.len));
    }
    cxs_buf_release(&b);
    return rc;
}

typedef enum col_type { COL_STRING, COL_NUMBER, COL_BOOL } col_type;

static cxs_status header(json_t *cells, json_t *names, col_type *types,
                         cxs_meili_error *e) {
    size_t i;
    json_t *x;
    json_array_foreach(cells, i, x) {
        const char *s = json_string_value(x), *colon = strrchr(s, ':');
        types[i] = COL_STRING;
        if (colon && !strcmp(colon + 1, "number"))
            types[i] = COL_NUMBER;
        else if (colon && !strcmp(colon + 1, "boolean"))
            types[i] = COL_BOOL;
        else if (colon && strcmp(colon + 1, "string") != 0)
            colon = NULL;
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        if (n == 0)
            return cxs_meili_fail(e, 400, "malformed_payload",
                                  "The CSV payload is not valid: column %zu "
                                  "of the header has no name.",
                                  i + 1);
        json_array_append_new(names, json_stringn(s, n));
    }
    return CXS_OK;
}

static json_t *typed(const char *s, col_type t) {
    if (!*s)
        return json_null();
    if (t == COL_BOOL)
        return !strcmp(s, "true")    ? json_true()
               : !strcmp(s, "false") ? json_false()
                                     : NULL;
    if (t == COL_STRING)
        return json_string(s);
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*end)
        return json_integer(v);
    double d = strtod(s, &end);
    return *end ? NULL : json_real(d);
}

static cxs_status csv_doc(const json_t *names, const col_type *types,
                          const json_t *cells, size_t line, json_t *out,
                          cxs_meili_error *e) {
    if (json_array_size(cells) != json_array_size(names))
        return cxs_meili_fail(e, 400, "malformed_payload",
                              "The CSV payload is not valid: line %zu has %zu "
                              "cells, the header %zu.",
                              line, json_array_size(cells),
                              json_array_size(names));
    json_t *doc = json_object();
    for (size_t i = 0; i < json_array_size(names); i++) {
        json_t *v =
            typed(json_string_value(json_array_get(cells, i)), types[i]);
        if (!v) {
            json_decref(doc);
            return cxs_meili_fail(e, 400, "malformed_payload",
                                  "The CSV payload is not valid: line %zu, "
                                  "column `%s`: not a %s.",
                                  line,
                                  json_string_value(json_array_get(names, i)),
                                  types[i] == COL_BOOL ? "boolean" : "number");
        }
        json_object_set_new(doc, json_string_value(json_array_get(names, i)),
                            v);
    }
    json_array_append_new(out, doc);
    return CXS_OK;
}

static cxs_status from_csv(const char *s, size_t n, char delim, json_t **out,
                           cxs_meili_error *e) {
    csv c = {s, n, 0, 1, delim};
    json_t *cells = json_array(), *names = json_array(), *a = json_array();
    col_type *types = NULL;
    cxs_status rc = CXS_OK;
    int got = csv_row(&c, cells, e);
    if (got <= 0)
        rc = got < 0 ? CXS_ERR_INVALID
                     : cxs_meili_fail(e, 400, "malformed_payload",
                                      "The CSV payload is empty.");
    else if (!(types = calloc(json_array_size(cells), sizeof *types)))
        rc = cxs_meili_fail(e, 500, "internal", "out of memory");
    else
        rc = header(cells, names, types, e);
    while (rc == CXS_OK) {
        size_t line = c.line;
        if ((got = csv_row(&c, cells, e)) <= 0) {
            rc = got < 0 ? CXS_ERR_INVALID : CXS_OK;
            break;
        }
        if (json_array_size(cells) == 1 &&
            !json_string_length(json_array_get(cells, 0)))
            continue; /* an empty line */
        rc = csv_doc(names, types, cells, line, a, e);
    }
    free(types);
    json_decref(cells);
    json_decref(names);
    if (rc != CXS_OK)
        json_decref(a);
    else
        *out = a;
    return rc;
}

cxs_status cxs_meili_body_docs(const char *ctype, const char *body, size_t n,
                               char delim, json_t **out, cxs_meili_error *e) {
    *out = NULL;
    body = body ? body : "";
    if (cxs_http_media_is(ctype, "text/csv"))
        return from_csv(body, n, delim, out, e);
    if (cxs_http_media_is(ctype, "application/json"))
        return from_json(body, n, out, e);
    return from_ndjson(body, n, out, e);
}
