/*
 * post.c - the post model: set/release, JSON in and out, derived fields
 * (title, hashtags, id) and the text hash used for ids and duplicates.
 *
 * Facts that shaped it:
 * - The JSON form is the canonical import and what `cxsearch dump` writes,
 *   so to_json(from_json(x)) must keep every field, unknown ones included
 *   (they live in extra), and key order is fixed for stable output.
 * - jansson refuses strings that are not valid UTF-8, so cxs_post_finish
 *   validates every string field: a finished post always serializes.
 * - Ids must be deterministic across runs and machines: the derived id is
 *   FNV-1a over the text with white space collapsed and ASCII case folded,
 *   so a re-import (or the same text reached through another file) gets
 *   the same id.
 * - Hashtags in Russian and Italian posts are Cyrillic or accented Latin;
 *   tags are folded for ASCII, Latin-1 and Cyrillic letters here without
 *   ICU, which is enough for tags and keeps this module light.
 */
#include "post.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_buf.h"
#include "cxs_utf8.h"

#define TITLE_MAX 120 /* bytes budget is 3x this: we count characters */
#define ID_MAX 512
#define TAG_MAX 128

/* -------------------------------------------------------- basic fields */

void cxs_post_release(cxs_post *p) {
    if (!p)
        return;
    free(p->id);
    free(p->channel);
    free(p->author);
    free(p->date);
    free(p->lang);
    free(p->url);
    free(p->title);
    free(p->text);
    for (size_t i = 0; i < p->ntags; i++)
        free(p->tags[i]);
    free(p->tags);
    free(p->source_file);
    if (p->extra)
        json_decref(p->extra);
    memset(p, 0, sizeof *p);
}

cxs_status cxs_post_set(char **field, const char *s, size_t n) {
    char *copy = NULL;
    if (s) {
        copy = cxs_strndup(s, n);
        if (!copy)
            return CXS_ERR_NOMEM;
    }
    free(*field);
    *field = copy;
    return CXS_OK;
}

/* Lower-cases one code point for tag folding: ASCII, Latin-1, Cyrillic. */
static unsigned fold_cp(unsigned cp) {
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F) /* А-Я */
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) /* Ѐ-Џ, Ё */
        return cp + 80;
    return cp;
}

cxs_status cxs_post_add_tag(cxs_post *p, const char *tag, size_t n) {
    while (n > 0 && *tag == '#')
        tag++, n--;
    if (n == 0)
        return CXS_OK;
    cxs_buf b;
    cxs_buf_init(&b, TAG_MAX * 4);
    cxs_status rc = CXS_OK;
    for (size_t i = 0; i < n && rc == CXS_OK;) {
        unsigned cp;
        i += cxs_utf8_decode(tag + i, n - i, &cp);
        rc = cxs_utf8_append_cp(&b, fold_cp(cp));
    }
    if (rc != CXS_OK) {
        cxs_buf_release(&b);
        return rc == CXS_ERR_TOO_LARGE ? CXS_OK : rc; /* absurd tag: drop */
    }
    for (size_t i = 0; i < p->ntags; i++) {
        if (strcmp(p->tags[i], b.data) == 0) {
            cxs_buf_release(&b);
            return CXS_OK;
        }
    }
    char **tags = realloc(p->tags, (p->ntags + 1) * sizeof *tags);
    if (!tags) {
        cxs_buf_release(&b);
        return CXS_ERR_NOMEM;
    }
    p->tags = tags;
    p->tags[p->ntags++] = cxs_buf_detach(&b);
    return p->tags[p->ntags - 1] ? CXS_OK : CXS_ERR_NOMEM;
}

/* ------------------------------------------------------------ from JSON */

static cxs_status set_from_json(char **field, const json_t *v, const char *key,
                                cxs_err *err) {
    if (!v || json_is_null(v))
        return CXS_OK;
    if (!json_is_string(v))
        return cxs_err_set(err, CXS_ERR_PARSE, "field \"%s\": not a string",
                           key);
    if (cxs_post_set(field, json_string_value(v), json_string_length(v)))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    return CXS_OK;
}

static cxs_status text_from_json(cxs_post *p, const json_t *v, cxs_err *err) {
    if (json_is_string(v))
        return set_from_json(&p->text, v, "text", err);
    if (!json_is_array(v))
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "field \"text\": not a string or an array");
    cxs_buf b;
    cxs_buf_init(&b, 0);
    size_t i;
    json_t *item;
    cxs_status rc = CXS_OK;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            rc = cxs_err_set(err, CXS_ERR_PARSE,
                             "field \"text\": item %zu is not a string", i);
            break;
        }
        if ((i > 0 && cxs_buf_appendc(&b, '\n')) ||
            cxs_buf_append(&b, json_string_value(item),
                           json_string_length(item))) {
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (rc == CXS_OK) {
        free(p->text);
        p->text = cxs_buf_detach(&b);
        if (!p->text)
            rc = cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    cxs_buf_release(&b);
    return rc;
}

static cxs_status tags_from_json(cxs_post *p, const json_t *v, cxs_err *err) {
    if (json_is_null(v))
        return CXS_OK;
    if (!json_is_array(v))
        return cxs_err_set(err, CXS_ERR_PARSE, "field \"tags\": not a list");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item))
            return cxs_err_set(err, CXS_ERR_PARSE,
                               "field \"tags\": item %zu is not a string", i);
        if (cxs_post_add_tag(p, json_string_value(item),
                             json_string_length(item)))
            return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    return CXS_OK;
}

static cxs_status source_from_json(cxs_post *p, const json_t *v, cxs_err *err) {
    if (json_is_null(v))
        return CXS_OK;
    if (json_is_string(v))
        return set_from_json(&p->source_file, v, "source", err);
    if (!json_is_object(v))
        return cxs_err_set(err, CXS_ERR_PARSE,
                           "field \"source\": not an object");
    cxs_status rc = set_from_json(&p->source_file, json_object_get(v, "file"),
                                  "source.file", err);
    if (rc != CXS_OK)
        return rc;
    const json_t *line = json_object_get(v, "line");
    if (line && !json_is_null(line)) {
        if (!json_is_integer(line) || json_integer_value(line) < 0)
            return cxs_err_set(err, CXS_ERR_PARSE,
                               "field \"source.line\": not a line number");
        p->source_line = (long)json_integer_value(line);
    }
    return CXS_OK;
}

/* Maps a known key to its string field, or NULL. */
static char **string_field(cxs_post *p, const char *key) {
    static const char *const names[] = {"id",   "channel", "author", "date",
                                        "lang", "url",     "title"};
    char **fields[] = {&p->id,   &p->channel, &p->author, &p->date,
                       &p->lang, &p->url,     &p->title};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(key, names[i]) == 0)
            return fields[i];
    return NULL;
}

static cxs_status add_extra(cxs_post *p, const char *key, json_t *v,
                            cxs_err *err) {
    if (!p->extra && !(p->extra = json_object()))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    if (json_object_set(p->extra, key, v))
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    return CXS_OK;
}

static cxs_status field_from_json(cxs_post *p, const char *key, json_t *v,
                                  cxs_err *err) {
    char **field = string_field(p, key);
    if (field)
        return set_from_json(field, v, key, err);
    if (strcmp(key, "text") == 0)
        return text_from_json(p, v, err);
    if (strcmp(key, "tags") == 0)
        return tags_from_json(p, v, err);
    if (strcmp(key, "source") == 0)
        return source_from_json(p, v, err);
    return add_extra(p, key, v, err);
}

cxs_status cxs_post_from_json(const json_t *obj, cxs_post *p, cxs_err *err) {
    if (!json_is_object(obj)) {
        cxs_post_release(p);
        return cxs_err_set(err, CXS_ERR_PARSE, "post is not a JSON object");
    }
    const char *key;
    json_t *v;
    cxs_status rc = CXS_OK;
    /* jansson's iteration is read-only here; the cast is for its API. */
    json_object_foreach((json_t *)obj, key, v) {
        if ((rc = field_from_json(p, key, v, err)) != CXS_OK)
            break;
    }
    if (rc == CXS_OK && (!p->text || !*p->text))
        rc = cxs_err_set(err, CXS_ERR_PARSE,
                         p->text ? "field \"text\" is empty"
                                 : "field \"text\" is missing");
    if (rc != CXS_OK)
        cxs_post_release(p);
    return rc;
}

/* -------------------------------------------------------------- to JSON */

static int put_str(json_t *o, const char *key, const char *s) {
    if (!s)
        return 0;
    json_t *v = json_string(s);
    if (!v) /* invalid UTF-8 would land here; keep the bytes we can */
        v = json_stringn_nocheck(s, strlen(s));
    return json_object_set_new(o, key, v);
}

static int put_tags(json_t *o, const cxs_post *p) {
    if (p->ntags == 0)
        return 0;
    json_t *a = json_array();
    if (!a)
        return -1;
    for (size_t i = 0; i < p->ntags; i++)
        if (json_array_append_new(a, json_string(p->tags[i]))) {
            json_decref(a);
            return -1;
        }
    return json_object_set_new(o, "tags", a);
}

static int put_source(json_t *o, const cxs_post *p) {
    if (!p->source_file && p->source_line <= 0)
        return 0;
    json_t *s = json_object();
    if (!s)
        return -1;
    int bad = put_str(s, "file", p->source_file);
    if (!bad && p->source_line > 0)
        bad = json_object_set_new(s, "line",
                                  json_integer((json_int_t)p->source_line));
    if (bad) {
        json_decref(s);
        return -1;
    }
    return json_object_set_new(o, "source", s);
}

json_t *cxs_post_to_json(const cxs_post *p) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = put_str(o, "id", p->id) || put_str(o, "channel", p->channel) ||
              put_str(o, "author", p->author) || put_str(o, "date", p->date) ||
              put_str(o, "lang", p->lang) || put_str(o, "url", p->url) ||
              put_str(o, "title", p->title) || put_str(o, "text", p->text) ||
              put_tags(o, p) || put_source(o, p);
    if (!bad && json_is_object(p->extra))
        bad = json_object_update_missing(o, p->extra);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------- finishing */

unsigned long long cxs_post_text_hash(const char *text, size_t len) {
    unsigned long long h = 14695981039346656037ULL;
    bool pending_space = false, any = false;
    for (size_t i = 0; i < len;) {
        size_t k;
        if (cxs_utf8_space_at(text + i, len - i, &k)) {
            pending_space = any;
            i += k;
            continue;
        }
        if (pending_space) {
            h = (h ^ (unsigned char)' ') * 1099511628211ULL;
            pending_space = false;
        }
        unsigned char c = (unsigned char)text[i++];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 1099511628211ULL;
        any = true;
    }
    return h;
}

/* Length of the first non-empty line of text; *start gets its offset. */
static size_t first_line(const char *text, size_t *start) {
    const char *s = text;
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        const char *t = cxs_utf8_trim(s, &n);
        if (n > 0 || !nl) {
            *start = (size_t)(t - text);
            return n;
        }
        s = nl + 1;
    }
}

/* Cuts s[0..n) at the last word break before TITLE_MAX characters. */
static size_t title_cut(const char *s, size_t n) {
    size_t chars = 0, i = 0, last_space = 0;
    while (i < n && chars < TITLE_MAX) {
        unsigned cp;
        size_t k = cxs_utf8_decode(s + i, n - i, &cp);
        if (cp == ' ')
            last_space = i;
        i += k;
        chars++;
    }
    if (i >= n)
        return n;
    return last_space > TITLE_MAX / 3 ? last_space : i;
}

static cxs_status derive_title(cxs_post *p) {
    size_t start, n = first_line(p->text, &start);
    const char *s = p->text + start;
    /* A Markdown heading marker is not part of the title. */
    size_t h = 0;
    while (h < n && h < 6 && s[h] == '#')
        h++;
    if (h > 0 && h < n && s[h] == ' ') {
        s += h + 1, n -= h + 1;
        s = cxs_utf8_trim(s, &n);
    }
    n = title_cut(s, n);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == ','))
        n--;
    return cxs_post_set(&p->title, s, n);
}

/* The code point that ends just before t[i] (' ' at the start). */
static unsigned prev_cp(const char *t, size_t i) {
    if (i == 0)
        return ' ';
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && ((unsigned char)t[j] & 0xC0) == 0x80)
        j--;
    unsigned cp;
    cxs_utf8_decode(t + j, i - j, &cp);
    return cp;
}

/* Adds every #hashtag of text: '#' at a word start followed by word
 * characters, at least one of them not a digit ("#1" is a number). Only
 * the '#' signs are looked at, found with memchr. */
static cxs_status derive_tags(cxs_post *p) {
    const char *t = p->text;
    size_t n = strlen(t);
    for (const char *h = memchr(t, '#', n); h;
         h = memchr(h + 1, '#', n - (size_t)(h + 1 - t))) {
        size_t i = (size_t)(h - t);
        unsigned prev = prev_cp(t, i);
        if (cxs_utf8_is_word(prev) || prev == '#' || prev == '&' || prev == '/')
            continue;
        size_t j = i + 1;
        bool letter = false;
        while (j < n) {
            unsigned c2;
            size_t k2 = cxs_utf8_decode(t + j, n - j, &c2);
            if (!cxs_utf8_is_word(c2))
                break;
            if (c2 < '0' || c2 > '9')
                letter = true;
            j += k2;
        }
        if (letter && j - i - 1 <= TAG_MAX) {
            cxs_status rc = cxs_post_add_tag(p, t + i + 1, j - i - 1);
            if (rc != CXS_OK)
                return rc;
        }
        if (j >= n)
            break;
        h = t + j - 1;
    }
    return CXS_OK;
}

static bool has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            return true;
    return false;
}

static cxs_status derive_id(cxs_post *p) {
    char buf[ID_MAX + 32];
    unsigned long long h = cxs_post_text_hash(p->text, strlen(p->text));
    if (p->channel && *p->channel && strlen(p->channel) < ID_MAX - 20)
        snprintf(buf, sizeof buf, "%s/h%016llx", p->channel, h);
    else
        snprintf(buf, sizeof buf, "h/%016llx", h);
    return cxs_post_set(&p->id, buf, strlen(buf));
}

static cxs_status check_utf8(const char *s, const char *name, cxs_err *err) {
    if (s && cxs_utf8_valid_prefix(s, strlen(s)) != strlen(s))
        return cxs_err_set(err, CXS_ERR_PARSE, "field \"%s\": invalid UTF-8",
                           name);
    return CXS_OK;
}

static cxs_status check_fields(const cxs_post *p, cxs_err *err) {
    const char *names[] = {"id",  "channel", "author", "date",       "lang",
                           "url", "title",   "text",   "source.file"};
    const char *vals[] = {p->id,  p->channel, p->author, p->date,       p->lang,
                          p->url, p->title,   p->text,   p->source_file};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        cxs_status rc = check_utf8(vals[i], names[i], err);
        if (rc != CXS_OK)
            return rc;
    }
    for (size_t i = 0; i < p->ntags; i++)
        if (check_utf8(p->tags[i], "tags", err))
            return CXS_ERR_PARSE;
    return CXS_OK;
}

/* Trims the text in place; false when nothing is left. */
static bool trim_text(cxs_post *p) {
    if (!p->text)
        return false;
    size_t n = strlen(p->text);
    const char *t = cxs_utf8_trim(p->text, &n);
    memmove(p->text, t, n);
    p->text[n] = '\0';
    return n > 0;
}

cxs_status cxs_post_finish(cxs_post *p, cxs_err *err) {
    if (!trim_text(p))
        return cxs_err_set(err, CXS_ERR_INVALID, "post has no text");
    cxs_status rc = check_fields(p, err);
    if (rc != CXS_OK)
        return rc;
    if ((!p->title || !*p->title) && (rc = derive_title(p)) != CXS_OK)
        return cxs_err_set(err, rc, "out of memory");
    if ((rc = derive_tags(p)) != CXS_OK)
        return cxs_err_set(err, rc, "out of memory");
    if ((!p->id || !*p->id) && (rc = derive_id(p)) != CXS_OK)
        return cxs_err_set(err, rc, "out of memory");
    size_t idn = strlen(p->id);
    if (idn == 0 || idn > ID_MAX || has_control(p->id))
        return cxs_err_set(err, CXS_ERR_INVALID,
                           "bad id (1..%d bytes, no control characters)",
                           ID_MAX);
    return CXS_OK;
}
