/*
 * synonyms.c - synonym groups (config/synonyms.txt) for query expansion.
 *
 * Facts that shaped it:
 * - Members are matched on their analyzed form, so every member is run
 *   through the analyzer once at load time and kept as tokens with their
 *   terms (query_int.h); "клиентского опыта" in a query meets the member
 *   "клиентский опыт" through shared lemma terms.
 * - Lookup happens for every query word, so it must be cheap: a hash
 *   table maps each term of a member's first token to the member; only
 *   those candidates are compared token by token.
 * - The table is immutable after loading and shared by all threads; the
 *   analyzer is only used while loading.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_grow.h"
#include "query_int.h"

#define MEMBER_MAX_TOKS 16 /* a member longer than this is a bad line */

typedef struct syn_entry {
    const char *term; /* borrowed from the member's tokens */
    size_t len;
    size_t group, member;
    long next; /* next entry in the bucket, -1 at the end */
} syn_entry;

typedef struct syn_group {
    cxs_qtext *members;
    char **texts; /* each member as written (trimmed) */
    size_t n;
} syn_group;

struct cxs_synonyms {
    syn_group *groups;
    size_t ngroups, capgroups;
    syn_entry *entries;
    size_t nentries, capentries;
    long *buckets;   /* -1: empty */
    size_t nbuckets; /* a power of two */
};

static uint64_t hash_term(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void cxs_synonyms_free(cxs_synonyms *s) {
    if (!s)
        return;
    for (size_t g = 0; g < s->ngroups; g++) {
        for (size_t m = 0; m < s->groups[g].n; m++) {
            cxs_qtext_release(&s->groups[g].members[m]);
            free(s->groups[g].texts[m]);
        }
        free(s->groups[g].texts);
        free(s->groups[g].members);
    }
    free(s->groups);
    free(s->entries);
    free(s->buckets);
    free(s);
}

static size_t count_keys(const cxs_qtext *t) {
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        k += cxs_qtok_is_key(&t->toks[i]);
    return k;
}

static const cxs_qtok *first_key(const cxs_qtext *t) {
    for (size_t i = 0; i < t->n; i++)
        if (cxs_qtok_is_key(&t->toks[i]))
            return &t->toks[i];
    return NULL;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                 s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Analyzes one member and appends it to group g. */
static cxs_status add_member(syn_group *g, cxs_stemmers *a, const char *text,
                             const char *where, cxs_err *err) {
    cxs_qtext t = {0};
    cxs_status rc =
        cxs_qtext_analyze(a, text, strlen(text), MEMBER_MAX_TOKS * 4, &t, err);
    if (rc != CXS_OK)
        return rc;
    size_t keys = count_keys(&t);
    if (keys == 0 || keys > MEMBER_MAX_TOKS) {
        cxs_qtext_release(&t);
        return cxs_err_set(err, CXS_ERR_PARSE, "%s: member \"%s\" has %s words",
                           where, text, keys ? "too many" : "no");
    }
    cxs_qtext *m = realloc(g->members, (g->n + 1) * sizeof *m);
    if (m)
        g->members = m;
    char **tx = m ? realloc(g->texts, (g->n + 1) * sizeof *tx) : NULL;
    if (tx)
        g->texts = tx;
    char *copy = tx ? strdup(text) : NULL;
    if (!copy) {
        cxs_qtext_release(&t);
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    }
    g->texts[g->n] = copy;
    g->members[g->n++] = t;
    return CXS_OK;
}

static cxs_status new_group(cxs_synonyms *s, syn_group **out, cxs_err *err) {
    if (CXS_GROW(s->groups, s->capgroups, s->ngroups + 1) != CXS_OK)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    *out = &s->groups[s->ngroups++];
    (*out)->members = NULL;
    (*out)->texts = NULL;
    (*out)->n = 0;
    return CXS_OK;
}

/* One line: "a, b, c" (comment already cut). Blank lines are skipped. */
static cxs_status parse_line(cxs_synonyms *s, cxs_stemmers *a, char *line,
                             const char *where, cxs_err *err) {
    if (!*trim(line))
        return CXS_OK;
    syn_group *g = NULL;
    cxs_status rc = new_group(s, &g, err);
    for (char *p = line; rc == CXS_OK && p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *m = trim(p);
        if (!*m)
            return cxs_err_set(err, CXS_ERR_PARSE, "%s: empty member", where);
        rc = add_member(g, a, m, where, err);
        p = comma ? comma + 1 : NULL;
    }
    if (rc == CXS_OK && g->n < 2)
        rc = cxs_err_set(err, CXS_ERR_PARSE,
                         "%s: a group needs at least two members", where);
    return rc;
}

static cxs_status add_entry(cxs_synonyms *s, const cxs_qterm *t, size_t g,
                            size_t m) {
    cxs_status rc = CXS_GROW(s->entries, s->capentries, s->nentries + 1);
    if (rc != CXS_OK)
        return rc;
    s->entries[s->nentries++] = (syn_entry){t->s, t->len, g, m, -1};
    return CXS_OK;
}

/* Every term of every member's first token points to the member. */
static cxs_status build_hash(cxs_synonyms *s, cxs_err *err) {
    for (size_t g = 0; g < s->ngroups; g++)
        for (size_t m = 0; m < s->groups[g].n; m++) {
            const cxs_qtok *k = first_key(&s->groups[g].members[m]);
            for (size_t i = 0; k && i < k->nterms; i++)
                if (k->terms[i].kind != CXS_TERM_TAG &&
                    add_entry(s, &k->terms[i], g, m) != CXS_OK)
                    return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
        }
    s->nbuckets = 16;
    while (s->nbuckets < s->nentries * 2)
        s->nbuckets *= 2;
    s->buckets = malloc(s->nbuckets * sizeof *s->buckets);
    if (!s->buckets)
        return cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    for (size_t b = 0; b < s->nbuckets; b++)
        s->buckets[b] = -1;
    for (size_t i = 0; i < s->nentries; i++) {
        size_t b = hash_term(s->entries[i].term, s->entries[i].len) &
                   (s->nbuckets - 1);
        s->entries[i].next = s->buckets[b];
        s->buckets[b] = (long)i;
    }
    return CXS_OK;
}

static cxs_status read_lines(cxs_synonyms *s, cxs_stemmers *a, FILE *f,
                             const char *path, cxs_err *err) {
    char *line = NULL, where[300];
    size_t cap = 0;
    cxs_status rc = CXS_OK;
    for (long no = 1; rc == CXS_OK && getline(&line, &cap, f) >= 0; no++) {
        char *hash = strchr(line, '#'); /* '#' starts a comment anywhere */
        if (hash)
            *hash = '\0';
        char *p = line;
        if (no == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3; /* UTF-8 byte order mark */
        snprintf(where, sizeof where, "%s:%ld", path, no);
        rc = parse_line(s, a, p, where, err);
    }
    if (rc == CXS_OK && ferror(f))
        rc = cxs_err_set(err, CXS_ERR_IO, "read %s: %s", path, strerror(errno));
    free(line);
    return rc;
}

cxs_status cxs_synonyms_load(const char *path, cxs_stemmers *a,
                             cxs_synonyms **out, cxs_err *err) {
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return cxs_err_set(err, CXS_ERR_IO, "open %s: %s", path,
                           strerror(errno));
    cxs_synonyms *s = calloc(1, sizeof *s);
    cxs_status rc = s ? read_lines(s, a, f, path, err)
                      : cxs_err_set(err, CXS_ERR_NOMEM, "out of memory");
    fclose(f);
    if (rc == CXS_OK)
        rc = build_hash(s, err);
    if (rc != CXS_OK) {
        cxs_synonyms_free(s);
        return rc;
    }
    *out = s;
    return CXS_OK;
}

/* How many query tokens member m covers from toks[0], or 0. */
static size_t member_covers(const cxs_qtext *m, const cxs_qtok *const *toks,
                            size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!cxs_qtok_is_key(&m->toks[i]))
            continue;
        if (k >= n || !cxs_qtok_match(&m->toks[i], toks[k]))
            return 0;
        k++;
    }
    return k;
}

size_t cxs_synonyms_match(const cxs_synonyms *s, const cxs_qtok *const *toks,
                          size_t n, size_t *group, size_t *member) {
    size_t best = 0;
    if (!s || !n || !s->nbuckets)
        return 0;
    for (size_t t = 0; t < toks[0]->nterms; t++) {
        const cxs_qterm *q = &toks[0]->terms[t];
        size_t b = hash_term(q->s, q->len) & (s->nbuckets - 1);
        for (long e = s->buckets[b]; e >= 0; e = s->entries[e].next) {
            const syn_entry *x = &s->entries[e];
            if (x->len != q->len || memcmp(x->term, q->s, q->len) != 0)
                continue;
            size_t k =
                member_covers(&s->groups[x->group].members[x->member], toks, n);
            if (k > best) {
                best = k;
                *group = x->group;
                *member = x->member;
            }
        }
    }
    return best;
}

size_t cxs_synonyms_group_size(const cxs_synonyms *s, size_t group) {
    return s && group < s->ngroups ? s->groups[group].n : 0;
}

const cxs_qtext *cxs_synonyms_member(const cxs_synonyms *s, size_t group,
                                     size_t member) {
    if (!s || group >= s->ngroups || member >= s->groups[group].n)
        return NULL;
    return &s->groups[group].members[member];
}

size_t cxs_synonyms_ngroups(const cxs_synonyms *s) {
    return s ? s->ngroups : 0;
}

const char *cxs_synonyms_member_text(const cxs_synonyms *s, size_t group,
                                     size_t member) {
    return s->groups[group].texts[member];
}
