/*
 * lexicon_cache.c - the vocabulary of a reader's databases (query/
 * lexicon.h), built from Xapian's term list and shared by every reader of
 * the same databases in the process.
 *
 * Facts that shaped it:
 * - The daemon opens one reader per worker thread; a lexicon per reader
 *   would multiply its memory by the thread count, so lexicons are kept
 *   here, keyed by the databases' paths and revision, and counted.
 * - The index changes under the readers (live writes, a re-import): a
 *   reader that moved to a newer revision gets the lexicon of that
 *   revision, built by the first reader that asks for it. The others keep
 *   the lexicon they had until it is ready, so no query waits for a
 *   rebuild except the very first ones of a process.
 * - Only exact forms are words (lower-case letters; every prefixed term
 *   starts with a capital, terms.h), so the build asks the term list for
 *   the ranges of 'a'..'z' and of the lead bytes of non-ASCII letters and
 *   never reads the ids, lemmas or stems.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

typedef struct lexshare {
    char *key; /* the paths, joined by '\n' */
    unsigned long long rev;
    cxs_lexicon *lx; /* NULL while being built */
    int failed;      /* out of memory: no lexicon for this revision */
    size_t refs;
    struct lexshare *next;
} lexshare;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t built = PTHREAD_COND_INITIALIZER;
static lexshare *all;

static char *key_of(const cxs_index *ix) {
    cxs_buf b = CXS_BUF_INIT;
    for (size_t i = 0; i < ix->npaths; i++)
        if (cxs_buf_appends(&b, ix->paths[i]) != CXS_OK ||
            cxs_buf_appendc(&b, '\n') != CXS_OK) {
            cxs_buf_release(&b);
            return NULL;
        }
    return cxs_buf_detach(&b);
}

static int add_term(void *ud, const char *term, size_t len,
                    unsigned long long freq) {
    return cxs_lexicon_add(ud, term, len, freq, NULL) != CXS_OK;
}

static cxs_lexicon *build(cxs_index *ix) {
    cxs_lexicon *lx = NULL;
    cxs_err err = {0};
    if (cxs_lexicon_new(&lx, &err) != CXS_OK)
        return NULL;
    cxs_status rc = CXS_OK;
    for (int c = 'a'; c <= 'z' && rc == CXS_OK; c++) {
        char p = (char)c;
        rc = cxs_xdb_terms(ix->rd, &p, 1, add_term, lx, &err);
    }
    for (int c = 0xC3; c <= 0xF4 && rc == CXS_OK; c++) {
        char p = (char)c;
        rc = cxs_xdb_terms(ix->rd, &p, 1, add_term, lx, &err);
    }
    if (rc != CXS_OK) {
        cxs_lexicon_free(lx);
        return NULL;
    }
    cxs_lexicon_seal(lx);
    return lx;
}

static lexshare *find(const char *key, unsigned long long rev) {
    for (lexshare *s = all; s; s = s->next)
        if (s->rev == rev && strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

/* An entry that no reader holds goes (the daemon's readers hold theirs
 * for their life, so only a revision nobody reads any more, or the last
 * reader's closing, frees one). */
static void sweep_locked(void) {
    for (lexshare **p = &all; *p;) {
        lexshare *s = *p;
        if (s->refs == 0 && s->lx) {
            *p = s->next;
            cxs_lexicon_free(s->lx);
            free(s->key);
            free(s);
        } else {
            p = &s->next;
        }
    }
}

static void unref_locked(lexshare *s) {
    if (s)
        s->refs--;
    sweep_locked();
}

void cxs_index_lexicon_drop(cxs_index *ix) {
    if (!ix->lex)
        return;
    pthread_mutex_lock(&mu);
    unref_locked(ix->lex);
    pthread_mutex_unlock(&mu);
    ix->lex = NULL;
}

/* Builds the entry s (placeholder, held by the caller) outside the lock. */
static void fill(cxs_index *ix, lexshare *s) {
    pthread_mutex_unlock(&mu);
    cxs_lexicon *lx = build(ix);
    pthread_mutex_lock(&mu);
    if (!lx && !cxs_lexicon_new(&lx, NULL))
        cxs_lexicon_seal(lx); /* a failed build forgives nothing */
    s->lx = lx;
    s->failed = !lx;
    pthread_cond_broadcast(&built);
}

static lexshare *acquire_locked(cxs_index *ix, const char *key,
                                unsigned long long rev) {
    lexshare *s = find(key, rev);
    if (s && !s->lx && ix->lex)
        return NULL; /* being built: keep the older one meanwhile */
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || !(s->key = strdup(key))) {
            free(s);
            return NULL;
        }
        s->rev = rev;
        s->next = all;
        all = s;
        s->refs++;
        fill(ix, s);
    } else {
        s->refs++;
        while (!s->lx && !s->failed)
            pthread_cond_wait(&built, &mu);
    }
    if (s->lx)
        return s;
    if (--s->refs == 0) { /* the last to give up on it removes it */
        for (lexshare **p = &all; *p; p = &(*p)->next)
            if (*p == s) {
                *p = s->next;
                break;
            }
        free(s->key);
        free(s);
    }
    return NULL;
}

const cxs_lexicon *cxs_index_lexicon(cxs_index *ix) {
    unsigned long long rev = cxs_index_revision(ix);
    if (ix->lex && ix->lex->rev == rev)
        return ix->lex->lx;
    char *key = key_of(ix);
    if (!key)
        return ix->lex ? ix->lex->lx : NULL;
    pthread_mutex_lock(&mu);
    lexshare *s = acquire_locked(ix, key, rev);
    if (s) {
        unref_locked(ix->lex);
        ix->lex = s;
    }
    pthread_mutex_unlock(&mu);
    free(key);
    return ix->lex ? ix->lex->lx : NULL;
}

size_t cxs_index_lexicon_words(cxs_index *ix, size_t *bytes) {
    const cxs_lexicon *lx = cxs_index_lexicon(ix);
    if (bytes)
        *bytes = cxs_lexicon_bytes(lx);
    return cxs_lexicon_size(lx);
}
