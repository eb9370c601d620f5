/*
 * test_resume.c - the analyzer's scan resumed mid-text
 * (cxs_stemmers_tokenize_from) gives, from every resume point
 * (cxs_stemmers_can_resume), exactly the tokens a scan from the start
 * gives from there: same spans, forms, positions, kinds and flags. The
 * snippets of index/snippet.c rely on it to tokenize only their passage.
 *
 * The texts are written here: every construct the scanner treats beyond
 * ICU's word break (URLs, mentions, e-mails, hashtags, Italian elisions,
 * hyphen and slash compounds, reaction counts glued to emoji), white space
 * of every ASCII kind, and a long text assembled from them at random.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxs_test.h"
#include "stemmers.h"

static cxs_stemmers *A;

typedef struct tok {
    size_t start, end;
    unsigned pos, flags;
    cxs_token_kind kind;
    char form[64];
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
} toks;

static int on_token(void *ud, const cxs_token *t) {
    toks *o = ud;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 256;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
        if (!o->v)
            return 1;
    }
    tok *d = &o->v[o->n++];
    memset(d, 0, sizeof *d);
    d->start = t->start, d->end = t->end, d->pos = t->pos;
    d->flags = t->flags, d->kind = t->kind;
    snprintf(d->form, sizeof d->form, "%.*s", (int)t->form_len, t->form);
    return 0;
}

static int same(const tok *a, const tok *b) {
    return a->start == b->start && a->end == b->end && a->pos == b->pos &&
           a->flags == b->flags && a->kind == b->kind &&
           strcmp(a->form, b->form) == 0;
}

/* Resumes at every resume point of text; returns how many there were. */
static size_t check_text(const char *text, size_t len) {
    toks all = {0}, part = {0};
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, text, len, on_token, &all, &err) == CXS_OK);
    size_t points = 0;
    for (size_t i = 0; i < all.n; i++) {
        cxs_token t = {all.v[i].form, strlen(all.v[i].form), all.v[i].start,
                       all.v[i].end,  all.v[i].pos,           all.v[i].kind,
                       all.v[i].flags};
        if (!cxs_stemmers_can_resume(text, len, &t))
            continue;
        points++;
        part.n = 0;
        CHECK(cxs_stemmers_tokenize_from(A, text, len, t.start, t.pos,
                                         on_token, &part, &err) == CXS_OK);
        int ok = part.n == all.n - i;
        for (size_t j = 0; ok && j < part.n; j++)
            ok = same(&part.v[j], &all.v[i + j]);
        CHECK_MSG(ok, "resumed at byte %zu (\"%s\") of \"%.60s\": %zu tokens, "
                      "%zu expected",
                  t.start, t.form, text, part.n, all.n - i);
    }
    free(all.v);
    free(part.v);
    return points;
}

static const char *const texts[] = {
    "Команда СХ провела опрос: NPS-CSI и CES/CSAT выросли на 12,5% за "
    "22.03.24 — см. https://example.com/report?q=nps&x=(1) и пишите "
    "ivan.petrov@example.org или @cx_lead.",
    "Il valore dell'informazione e l'80% dell`esperienza: c'è un "
    "percorso-cliente ben fatto, quest'anno #CX #esperienza_cliente.",
    "Reactions 🔥28 ❤️ 8 👍12 1️⃣ 2 👨‍👩‍👧 3\tthen\ttabs\r\nand CRLF lines\n\n"
    "customer-journey map, B2B/B2C, e-mail me at a@b.co (not C# nor #1).",
    "Заголовок строкой\nТекст после заголовка: клиентский опыт, "
    "клиентоориентированность и путь клиента. Ёлки — тоже слово.",
    " \u00a0неразрывный пробел, \u0301комбинирующий знак, "
    "\xef\xbc\xa1 ширина, \xff битый байт, www.example.it/pagina. fine",
    "@ alone, @@double, mail@, x@y, #, #123 #тег, (https://t.me/cx_channel) "
    "and http://localhost:8080/a.b.",
    "un'ottima sull'orlo nell'ambito anch'io - trattino - e/o su/giù "
    "ABC-123-def-456-ghi-789-jkl-0-mno-1-pqr-2-stu-3-vwx-4-yz-5-end",
};

/* Pieces a long text is assembled from, at random. */
static const char *const pieces[] = {
    "клиентский опыт", "NPS-CSI",      "dell'informazione", "#CX",
    "@anna_ivanova",   "https://example.com/a?b=c).", "🔥28",  "❤8",
    "l'80%",           "customer journey", "путь клиента", "3,5",
    "e/o",             "\n",            "\n\n",              "\t",
    "—",               "«цитата»",      "опрос.",            "perché",
    "don't",           "it's",          "ё",                 "x@y.com",
};

static void test_resume_points(void) {
    size_t points = 0;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        points += check_text(texts[i], strlen(texts[i]));
    CHECK_MSG(points > 80, "%zu resume points", points);
}

static void test_resume_long_text(void) {
    size_t cap = 40000, n = 0;
    char *t = malloc(cap + 64);
    unsigned long long r = 12345;
    while (t && n < cap) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        const char *p = pieces[(r >> 33) % (sizeof pieces / sizeof *pieces)];
        size_t k = strlen(p);
        memcpy(t + n, p, k);
        n += k;
        t[n++] = (r >> 20) % 5 ? ' ' : ((r >> 25) % 2 ? ',' : '-');
    }
    CHECK(t != NULL);
    if (t)
        CHECK(check_text(t, n) > 2000);
    free(t);
}

static void test_resume_refused(void) {
    const char *text = "alpha NPS-CSI beta";
    toks all = {0};
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, text, strlen(text), on_token, &all, &err) ==
          CXS_OK);
    CHECK_INT((int)all.n, 5); /* alpha, nps-csi, nps, csi, beta */
    cxs_token t = {0};
    for (size_t i = 0; i < all.n; i++) {
        t.start = all.v[i].start, t.flags = all.v[i].flags;
        /* Only the whole compound, not its first part, starts the group. */
        int want = i != 2 && i != 3;
        CHECK_MSG(cxs_stemmers_can_resume(text, strlen(text), &t) == want,
                  "token %zu", i);
    }
    /* Beyond one chunk of the scanner: never. */
    t.start = 6, t.flags = 0;
    CHECK(!cxs_stemmers_can_resume(text, (size_t)1 << 30, &t));
    CHECK(cxs_stemmers_tokenize_from(A, text, 3, 4, 0, on_token, &all, &err) ==
          CXS_ERR_INVALID);
    free(all.v);
}

int main(void) {
    cxs_err err = {0};
    if (cxs_stemmers_new(NULL, &A, &err) != CXS_OK) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    RUN(test_resume_points);
    RUN(test_resume_long_text);
    RUN(test_resume_refused);
    cxs_stemmers_free(A);
    return cxs_test_done();
}
