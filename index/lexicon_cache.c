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
 *   revision once it is ready, and keeps the one it had meanwhile. A
 *   build takes 0.1-0.3 s at 57k posts, which the query that first saw
 *   the new revision used to pay after every commit: it is now made by a
 *   thread of this cache on a connection of its own (a Xapian database
 *   is not shared between threads), so only a reader's very first
 *   lexicon is built on a query's time (the daemon's first query).
 * - That thread never takes the cache's lock: it publishes with an atomic
 *   flag, and a reader collects (joins) it under the lock, so joining
 *   there cannot deadlock. It is joined at the latest when the last
 *   reader wanting it closes.
 * - Only exact forms are words (lower-case letters; every prefixed term
 *   starts with a capital, terms.h), so the build asks the term list for
 *   the ranges of 'a'..'z' and of the lead bytes of non-ASCII letters and
 *   never reads the ids, lemmas or stems.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

typedef struct lexshare {
    char *key; /* the paths, joined by '\n' */
    unsigned long long rev;
    cxs_lexicon *lx; /* NULL while being built */
    int failed;      /* out of memory: no lexicon for this revision */
    size_t refs;
    /* Built by a thread of its own (start_build), until collected: */
    int async;
    int joining; /* a caller joins th with the lock released */
    pthread_t th;
    cxs_xdb *db;        /* the thread's connection */
    cxs_lexicon *made;  /* what it built (NULL: it failed) */
    atomic_int ready;   /* made is final */
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

static cxs_lexicon *build(cxs_xdb *db) {
    cxs_lexicon *lx = NULL;
    cxs_err err = {0};
    if (cxs_lexicon_new(&lx, &err) != CXS_OK)
        return NULL;
    cxs_status rc = CXS_OK;
    for (int c = 'a'; c <= 'z' && rc == CXS_OK; c++) {
        char p = (char)c;
        rc = cxs_xdb_terms(db, &p, 1, add_term, lx, &err);
    }
    for (int c = 0xC3; c <= 0xF4 && rc == CXS_OK; c++) {
        char p = (char)c;
        rc = cxs_xdb_terms(db, &p, 1, add_term, lx, &err);
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

/* A failed build forgives nothing: an empty lexicon (NULL only when
 * even that cannot be had). */
static cxs_lexicon *or_empty(cxs_lexicon *lx) {
    if (!lx && cxs_lexicon_new(&lx, NULL) == CXS_OK)
        cxs_lexicon_seal(lx);
    return lx;
}

static void *build_thread(void *arg) {
    lexshare *s = arg;
    s->made = build(s->db);
    atomic_store(&s->ready, 1);
    return NULL;
}

/* Takes in what s's thread built: when it is done, or always with wait
 * (WAIT_HERE: joining with the lock held, for sweep, whose walk of the
 * list must not see it change; WAIT: with the lock released meanwhile,
 * by a caller holding s, while other callers wait for the broadcast).
 * Returns whether s is built (lx set, or failed). */
enum { NO_WAIT, WAIT, WAIT_HERE };
static int collect_locked(lexshare *s, int wait) {
    if (!s->async)
        return s->lx || s->failed;
    if (s->joining) { /* another caller joins it (it holds s) */
        while (wait && s->async)
            pthread_cond_wait(&built, &mu);
        return !s->async;
    }
    if (wait == NO_WAIT && !atomic_load(&s->ready))
        return 0;
    s->joining = 1;
    if (wait == WAIT)
        pthread_mutex_unlock(&mu);
    pthread_join(s->th, NULL);
    if (wait == WAIT)
        pthread_mutex_lock(&mu);
    s->joining = 0;
    cxs_xdb_close(s->db);
    s->db = NULL;
    s->async = 0;
    s->lx = or_empty(s->made);
    s->failed = !s->lx;
    pthread_cond_broadcast(&built);
    return 1;
}

/* An entry that no reader holds goes (the daemon's readers hold theirs
 * for their life, so only a revision nobody reads any more, or the last
 * reader's closing, frees one); its build, if any, is waited for. */
static void sweep_locked(void) {
    for (lexshare **p = &all; *p;) {
        lexshare *s = *p;
        if (s->refs == 0 && s->async)
            (void)collect_locked(s, WAIT_HERE);
        if (s->refs == 0 && (s->lx || s->failed)) {
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
    if (!ix->lex && !ix->lex_next)
        return;
    pthread_mutex_lock(&mu);
    if (ix->lex_next)
        ix->lex_next->refs--;
    unref_locked(ix->lex);
    pthread_mutex_unlock(&mu);
    ix->lex = ix->lex_next = NULL;
}

/* Builds the entry s (placeholder, held by the caller) outside the lock. */
static void fill(cxs_index *ix, lexshare *s) {
    pthread_mutex_unlock(&mu);
    cxs_lexicon *lx = build(ix->rd);
    pthread_mutex_lock(&mu);
    lx = or_empty(lx);
    s->lx = lx;
    s->failed = !lx;
    pthread_cond_broadcast(&built);
}

/* A new entry for key at rev, held by nobody yet, or NULL. */
static lexshare *entry_new(const char *key, unsigned long long rev) {
    lexshare *s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return NULL;
    }
    s->rev = rev;
    s->next = all;
    all = s;
    return s;
}

static lexshare *acquire_locked(cxs_index *ix, const char *key,
                                unsigned long long rev) {
    lexshare *s = find(key, rev);
    if (s && !s->lx && ix->lex)
        return NULL; /* being built: keep the older one meanwhile */
    if (!s) {
        if (!(s = entry_new(key, rev)))
            return NULL;
        s->refs++;
        fill(ix, s);
    } else {
        s->refs++;
        while (!s->lx && !s->failed)
            if (s->async) /* built by a thread of ours */
                (void)collect_locked(s, WAIT);
            else
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

/* Starts building s (held by the caller) on a thread of its own, with
 * its own connection, opened with the lock released (a remote shard may
 * take its connect timeout to answer); meanwhile s looks like a build on
 * a query's time, which others wait for or leave alone. Returns 0 when
 * it cannot. */
static int start_build(cxs_index *ix, lexshare *s) {
    cxs_xdb *db = NULL;
    pthread_mutex_unlock(&mu);
    cxs_status rc = cxs_index_open_db(ix, &db, NULL);
    pthread_mutex_lock(&mu);
    if (rc != CXS_OK)
        return 0;
    s->db = db;
    atomic_init(&s->ready, 0);
    if (pthread_create(&s->th, NULL, build_thread, s) != 0) {
        cxs_xdb_close(s->db);
        s->db = NULL;
        return 0;
    }
    s->async = 1;
    pthread_cond_broadcast(&built); /* waiters now join it */
    return 1;
}

/* ix's newer lexicon, once its thread is done, becomes ix's own. */
static void take_next_locked(cxs_index *ix) {
    lexshare *n = ix->lex_next;
    if (!n || !collect_locked(n, NO_WAIT))
        return;
    ix->lex_next = NULL;
    if (n->lx) {
        unref_locked(ix->lex);
        ix->lex = n;
    } else {
        unref_locked(n);
    }
}

/* ix has a lexicon and reads the newer revision rev: rev's is taken when
 * built, else its build is started or joined, without waiting (one at a
 * time per reader). Where no thread can be started it is built here. */
static void want_newer_locked(cxs_index *ix, const char *key,
                              unsigned long long rev) {
    if (ix->lex_next)
        return; /* ours is under way */
    lexshare *s = find(key, rev);
    if (s && !s->lx && !s->async)
        return; /* another reader builds it on its query's time */
    if (s && s->async) {
        s->refs++;
        ix->lex_next = s;
        return;
    }
    if (!s) {
        if (!(s = entry_new(key, rev)))
            return;
        s->refs++;
        if (start_build(ix, s)) {
            ix->lex_next = s;
            return;
        }
        fill(ix, s);
        s->refs--;
    }
    if (s->lx) {
        s->refs++;
        unref_locked(ix->lex);
        ix->lex = s;
    }
    sweep_locked();
}

const cxs_lexicon *cxs_index_lexicon(cxs_index *ix) {
    unsigned long long rev = cxs_index_revision(ix);
    if (ix->lex && ix->lex->rev == rev)
        return ix->lex->lx;
    char *key = key_of(ix);
    if (!key)
        return ix->lex ? ix->lex->lx : NULL;
    pthread_mutex_lock(&mu);
    take_next_locked(ix);
    if (ix->lex && ix->lex->rev != rev) {
        want_newer_locked(ix, key, rev);
    } else if (!ix->lex) {
        lexshare *s = acquire_locked(ix, key, rev);
        if (s)
            ix->lex = s;
    }
    pthread_mutex_unlock(&mu);
    free(key);
    return ix->lex ? ix->lex->lx : NULL;
}

void cxs_index_warm(cxs_index *ix) {
    if (!ix->rd)
        return;
    unsigned long long rev = cxs_index_revision(ix);
    if (ix->lex && ix->lex->rev == rev)
        return;
    char *key = key_of(ix);
    if (!key)
        return;
    pthread_mutex_lock(&mu);
    if (ix->lex_next) { /* an older one under way: take it, then rev's */
        (void)collect_locked(ix->lex_next, WAIT);
        take_next_locked(ix);
    }
    lexshare *s = find(key, rev);
    if (s && s->async) {
        s->refs++;
        (void)collect_locked(s, WAIT);
        s->refs--;
    }
    lexshare *old = ix->lex;
    ix->lex = NULL; /* so that acquire waits for, or makes, rev's */
    s = acquire_locked(ix, key, rev);
    ix->lex = s ? s : old;
    if (s)
        unref_locked(old);
    pthread_mutex_unlock(&mu);
    free(key);
}
