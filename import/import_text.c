/*
 * import_text.c - plain text, Markdown and newsletter files: one post per
 * file. Also the date-statement parser the scraped importer shares.
 *
 * Facts that shaped it:
 * - A note or a newsletter issue is one unit of reading: it becomes one
 *   post, titled by its first heading or first line (cxs_post_finish).
 *   A newsletter issue with several sections stays one post: its sections
 *   are one author's one mailing, and splitting them on headings would cut
 *   ordinary articles with subheadings into fragments.
 * - Newsletters state their date in the text, in the language of the
 *   text: "Pubblicato: 2021-07-14", "Опубликовано 14.07.2021", "Published
 *   on July 14, 2021". The first lines are searched for such a statement.
 * - Markdown notes may carry YAML-like front matter (title, date, channel,
 *   author, url, lang, tags); it is read and left out of the text.
 * - Invalid UTF-8 in an otherwise good text file (a stray Latin-1 byte) is
 *   replaced with U+FFFD and warned about once; a file where more than 5%
 *   of the bytes are invalid (a binary; random bytes are mostly invalid),
 *   or with NUL bytes, is not text and is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_internal.h"

#define DATE_SCAN_LINES 30
#define FRONT_MATTER_LINES 64

/* ----------------------------------------------------------- dates */

typedef struct tok {
    enum { T_NUM, T_WORD, T_SEP } kind;
    int val;    /* number value, or month 1..12 for a month word */
    int digits; /* digits of a number */
    char sep;   /* separator character */
} tok;

static const char *const months[][12] = {
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
     "nov", "dec"},
    {"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott",
     "nov", "dic"},
    {"янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя",
     "дек"},
};

/* Lower-cases ASCII and Cyrillic letters of a word into out. */
static void fold_word(const char *s, size_t n, char *out, size_t cap) {
    cxs_buf b;
    cxs_buf_init(&b, cap - 1);
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += cxs_utf8_decode(s + i, n - i, &cp);
        if (cp >= 'A' && cp <= 'Z')
            cp += 32;
        else if (cp >= 0x410 && cp <= 0x42F)
            cp += 32;
        if (cxs_utf8_append_cp(&b, cp) != CXS_OK)
            break;
    }
    snprintf(out, cap, "%s", b.data ? b.data : "");
    cxs_buf_release(&b);
}

static int month_of(const char *s, size_t n) {
    char w[64];
    fold_word(s, n, w, sizeof w);
    if (strlen(w) < 3)
        return 0;
    for (size_t l = 0; l < 3; l++)
        for (int m = 0; m < 12; m++)
            if (strncmp(w, months[l][m], strlen(months[l][m])) == 0)
                return m + 1;
    return 0;
}

/* Splits s into number, word and separator tokens (white space dropped). */
static size_t tokenize(const char *s, size_t n, tok *t, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap;) {
        unsigned cp;
        size_t len = cxs_utf8_decode(s + i, n - i, &cp);
        if (cp >= '0' && cp <= '9') {
            int v = 0, d = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (d < 6)
                    v = v * 10 + (s[i] - '0');
                d++, i++;
            }
            t[k++] = (tok){T_NUM, v, d, 0};
        } else if (cxs_utf8_is_word(cp)) {
            size_t j = i;
            while (j < n) {
                size_t l2 = cxs_utf8_decode(s + j, n - j, &cp);
                if (!cxs_utf8_is_word(cp) || (cp >= '0' && cp <= '9'))
                    break;
                j += l2;
            }
            t[k++] = (tok){T_WORD, month_of(s + i, j - i), 0, 0};
            i = j;
        } else {
            if (cp != ' ' && cp != '\t' && cp != 0xA0)
                t[k++] = (tok){T_SEP, 0, 0, cp < 0x80 ? (char)cp : '?'};
            i += len;
        }
    }
    return k;
}

static bool valid_ymd(int y, int m, int d) {
    return y >= 1990 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool is_num(const tok *t, int maxd) {
    return t->kind == T_NUM && t->digits >= 1 && t->digits <= maxd;
}

/* Tries the date patterns at token i; fills y/m/d. */
static bool date_at(const tok *t, size_t k, size_t i, int *y, int *m, int *d) {
    if (i + 4 < k && t[i].kind == T_NUM && t[i].digits == 4 &&
        t[i + 1].kind == T_SEP && t[i + 1].sep == '-' && is_num(&t[i + 2], 2) &&
        t[i + 3].kind == T_SEP && t[i + 3].sep == '-' && is_num(&t[i + 4], 2))
        return *y = t[i].val, *m = t[i + 2].val, *d = t[i + 4].val,
               valid_ymd(*y, *m, *d);
    if (i + 4 < k && is_num(&t[i], 2) && t[i + 1].kind == T_SEP &&
        (t[i + 1].sep == '.' || t[i + 1].sep == '/') && is_num(&t[i + 2], 2) &&
        t[i + 3].kind == T_SEP && t[i + 3].sep == t[i + 1].sep &&
        t[i + 4].kind == T_NUM && t[i + 4].digits == 4)
        return *d = t[i].val, *m = t[i + 2].val, *y = t[i + 4].val,
               valid_ymd(*y, *m, *d);
    if (i + 2 < k && is_num(&t[i], 2) && t[i + 1].kind == T_WORD &&
        t[i + 1].val && t[i + 2].kind == T_NUM && t[i + 2].digits == 4)
        return *d = t[i].val, *m = t[i + 1].val, *y = t[i + 2].val,
               valid_ymd(*y, *m, *d);
    size_t j = i + 2;
    if (j < k && t[j].kind == T_SEP && t[j].sep == ',')
        j++;
    if (j < k && t[i].kind == T_WORD && t[i].val && is_num(&t[i + 1], 2) &&
        t[j].kind == T_NUM && t[j].digits == 4)
        return *m = t[i].val, *d = t[i + 1].val, *y = t[j].val,
               valid_ymd(*y, *m, *d);
    return false;
}

bool cxs_import_find_date(const char *s, size_t n, char out[11]) {
    tok t[64];
    size_t k = tokenize(s, n, t, 64);
    for (size_t i = 0; i < k; i++) {
        int y, m, d;
        if (date_at(t, k, i, &y, &m, &d)) {
            snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
            return true;
        }
    }
    return false;
}

/* Words that introduce a publication date, folded. */
static bool states_date(const char *s, size_t n) {
    static const char *const keys[] = {"pubblicat",   "published", "posted",
                                       "date",        "data",      "updated",
                                       "опубликован", "дата",      "publié",
                                       "publicado",   "aggiornat"};
    char w[256];
    fold_word(s, n < 200 ? n : 200, w, sizeof w);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strstr(w, keys[i]))
            return true;
    return false;
}

/* A date stated in the first lines: a line with a date keyword and a
 * date, or a line that is nothing but a date. */
static bool text_date(const char *text, size_t len, char out[11]) {
    size_t pos = 0, seen = 0;
    const char *line;
    size_t n;
    while (seen < DATE_SCAN_LINES &&
           cxs_import_next_line(text, len, &pos, &line, &n)) {
        line = cxs_utf8_trim(line, &n);
        if (n == 0 || n > 200)
            continue;
        seen++;
        if (!cxs_import_find_date(line, n, out))
            continue;
        if (states_date(line, n) || n <= 20)
            return true;
    }
    return false;
}

/* ------------------------------------------------------- front matter */

static cxs_status fm_tags(cxs_post *p, const char *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == '[' || v[i] == ']' || v[i] == ',' ||
                         v[i] == ' ' || v[i] == '"' || v[i] == '\''))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',' && v[j] != ']' && v[j] != '"' &&
               v[j] != '\'')
            j++;
        size_t m = j - i;
        const char *t = cxs_utf8_trim(v + i, &m);
        cxs_status rc = cxs_post_add_tag(p, t, m);
        if (rc != CXS_OK)
            return rc;
        i = j;
    }
    return CXS_OK;
}

static cxs_status fm_field(cxs_post *p, const char *k, size_t kn, const char *v,
                           size_t vn) {
    static const char *const names[] = {"title",  "date", "channel",
                                        "author", "url",  "lang"};
    char **fields[] = {&p->title,  &p->date, &p->channel,
                       &p->author, &p->url,  &p->lang};
    if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0])
        v++, vn -= 2;
    if (kn == 4 && strncasecmp(k, "tags", 4) == 0)
        return fm_tags(p, v, vn);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (kn == strlen(names[i]) && strncasecmp(k, names[i], kn) == 0)
            return vn ? cxs_post_set(fields[i], v, vn) : CXS_OK;
    return CXS_OK;
}

/* Reads "---\nkey: value\n---" at the start; returns the offset of the
 * body and its first line number, or 0 when there is no front matter. */
static size_t front_matter(cxs_post *p, const char *t, size_t len,
                           long *body_line, cxs_status *rc) {
    *rc = CXS_OK;
    if (len < 4 || strncmp(t, "---", 3) != 0 || (t[3] != '\n' && t[3] != '\r'))
        return 0;
    size_t pos = 0;
    const char *line;
    size_t n;
    long no = 0;
    cxs_import_next_line(t, len, &pos, &line, &n);
    while (++no < FRONT_MATTER_LINES &&
           cxs_import_next_line(t, len, &pos, &line, &n)) {
        if (n >= 3 && strncmp(line, "---", 3) == 0 &&
            cxs_utf8_blank(line + 3, n - 3)) {
            *body_line = no + 2;
            return pos;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon)
            continue;
        size_t kn = (size_t)(colon - line), vn = n - kn - 1;
        const char *k = cxs_utf8_trim(line, &kn);
        const char *v = cxs_utf8_trim(colon + 1, &vn);
        if ((*rc = fm_field(p, k, kn, v, vn)) != CXS_OK)
            return 0;
    }
    /* No closing line: not front matter after all. */
    cxs_post_release(p);
    return 0;
}

/* ---------------------------------------------------------- the file */

/* Makes the file's bytes valid UTF-8 text in b, or fails for a file that
 * is not text. */
cxs_status cxs_import_clean_text(cxs_import_ctx *cx, const char *path,
                                 const char *data, size_t len, cxs_buf *b,
                                 cxs_err *err) {
    if (memchr(data, '\0', len))
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "binary file (NUL bytes), not text");
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        data += 3, len -= 3;
    size_t ok = cxs_utf8_valid_prefix(data, len);
    if (ok == len)
        return cxs_buf_append(b, data, len) == CXS_OK
                   ? CXS_OK
                   : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    size_t bad = 0;
    if (cxs_utf8_append_fixed(b, data, len, &bad) != CXS_OK)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    long line = 1;
    for (size_t i = 0; i < ok; i++)
        line += data[i] == '\n';
    if (bad * 20 > len) {
        cx->err_line = line;
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "not UTF-8 text (%zu invalid bytes, the first on "
                           "line %ld)",
                           bad, line);
    }
    cxs_import_warn(cx, path, line,
                    "%zu invalid UTF-8 byte(s) replaced with U+FFFD", bad);
    return CXS_OK;
}

static cxs_status build_post(cxs_import_ctx *cx, const char *path, char *text,
                             size_t len, cxs_post *p, cxs_err *err) {
    long body_line = 1;
    cxs_status rc;
    size_t off = front_matter(p, text, len, &body_line, &rc);
    if (rc != CXS_OK)
        return cxs_err_set(err, rc, "out of memory");
    if (cxs_post_set(&p->text, text + off, len - off) != CXS_OK ||
        cxs_post_set(&p->source_file, path, strlen(path)) != CXS_OK)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    p->source_line = body_line;
    size_t n = cxs_import_cap_text(cx, p, path, body_line);
    char date[11];
    if (!p->date && text_date(p->text, n, date) &&
        cxs_post_set(&p->date, date, 10) != CXS_OK)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    return CXS_OK;
}

cxs_status cxs_import_text_file(cxs_import_ctx *cx, const char *path,
                                cxs_err *err) {
    char *data;
    size_t len;
    cxs_status rc = cxs_import_read_file(path, cx->max_bytes, &data, &len, err);
    if (rc != CXS_OK)
        return rc;
    cxs_buf b;
    cxs_buf_init(&b, 0);
    rc = cxs_import_clean_text(cx, path, data, len, &b, err);
    free(data);
    cxs_post p = CXS_POST_INIT;
    if (rc == CXS_OK && b.len > 0)
        rc = build_post(cx, path, b.data, b.len, &p, err);
    if (rc == CXS_OK && p.text && !cxs_utf8_blank(p.text, strlen(p.text)))
        rc = cxs_import_emit(cx, &p, err);
    else if (rc == CXS_OK)
        cxs_import_warn(cx, path, 0, "empty file: no post");
    cxs_post_release(&p);
    cxs_buf_release(&b);
    return rc;
}
