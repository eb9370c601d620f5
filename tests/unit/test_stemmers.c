/*
 * test_stemmers.c - the analyzer against the rules of issue 3, one table
 * per rule (1-13), plus byte spans, the query side (a query word's terms
 * meet the terms of its other forms in a post) and robustness.
 *
 * Terms are compared as "K:term" with K = E (exact), A (accent-free),
 * L (lemma), S (stem), T (tag), because the index keeps each class under
 * its own prefix: a match needs the same class and the same string.
 * Every example sentence here is written for this test.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cxs_test.h"
#include "stemmers.h"
#include "stemmers_internal.h" /* the cache's counters */

static cxs_stemmers *A;

/* ---- collecting terms and tokens ---- */

#define MAXT 4096
typedef struct tset {
    char *s[MAXT];
    int n;
} tset;

static void tset_free(tset *t) {
    for (int i = 0; i < t->n; i++)
        free(t->s[i]);
    t->n = 0;
}

static int tset_has(const tset *t, const char *s) {
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->s[i], s) == 0)
            return 1;
    return 0;
}

static int tset_count_prefix(const tset *t, const char *p) {
    int k = 0;
    for (int i = 0; i < t->n; i++)
        k += strncmp(t->s[i], p, strlen(p)) == 0;
    return k;
}

/* The first string both sets hold, or NULL. */
static const char *tset_meet(const tset *a, const tset *b) {
    for (int i = 0; i < a->n; i++)
        if (tset_has(b, a->s[i]))
            return a->s[i];
    return NULL;
}

static const char kind_letter[] = {'E', 'A', 'L', 'S', 'T'};

typedef struct term_ctx {
    tset *set;
    const char *text;
    const char *only; /* keep terms of tokens whose span text is this */
    int bad;
} term_ctx;

static int on_term(void *ud, cxs_term_kind kind, const char *t, size_t n,
                   const cxs_token *tok) {
    term_ctx *c = ud;
    if (n == 0 || n > 240 || kind > CXS_TERM_TAG)
        c->bad++;
    if (c->only &&
        (strlen(c->only) != tok->end - tok->start ||
         memcmp(c->text + tok->start, c->only, tok->end - tok->start) != 0))
        return 0;
    if (c->set->n < MAXT) {
        char *s = malloc(n + 3);
        s[0] = kind_letter[kind], s[1] = ':';
        memcpy(s + 2, t, n);
        s[n + 2] = '\0';
        c->set->s[c->set->n++] = s;
    }
    return 0;
}

static void terms_of(const char *text, cxs_lang lang, const char *only,
                     tset *out) {
    term_ctx c = {out, text, only, 0};
    cxs_err err = {0};
    CHECK(cxs_stemmers_terms(A, text, strlen(text), lang, on_term, &c, &err) ==
          CXS_OK);
    CHECK_INT(c.bad, 0);
}

typedef struct tok {
    char form[256];
    size_t start, end;
    unsigned pos, flags;
    cxs_token_kind kind;
} tok;

typedef struct toks {
    tok v[512];
    int n;
} toks;

static int on_token(void *ud, const cxs_token *t) {
    toks *k = ud;
    if (k->n < 512) {
        tok *o = &k->v[k->n++];
        size_t n = t->form_len < 255 ? t->form_len : 255;
        memcpy(o->form, t->form, n);
        o->form[n] = '\0';
        o->start = t->start, o->end = t->end, o->pos = t->pos;
        o->flags = t->flags, o->kind = t->kind;
    }
    return 0;
}

static void tokens_of(const char *text, toks *out) {
    cxs_err err = {0};
    out->n = 0;
    CHECK(cxs_stemmers_tokenize(A, text, strlen(text), on_token, out, &err) ==
          CXS_OK);
}

/* Forms joined by ' ' (compound wholes and parts both appear). */
static const char *forms_of(const char *text) {
    static char buf[4096];
    static toks t;
    tokens_of(text, &t);
    buf[0] = '\0';
    for (int i = 0; i < t.n; i++) {
        if (i)
            strcat(buf, " ");
        strncat(buf, t.v[i].form, sizeof buf - strlen(buf) - 2);
    }
    return buf;
}

/* Does the query word meet the post's word (through the given term)? */
static void check_meets(const char *query, const char *post, cxs_lang lang,
                        const char *word, const char *via) {
    tset q = {0}, d = {0};
    terms_of(query, CXS_LANG_UNKNOWN, NULL, &q);
    terms_of(post, lang, word, &d);
    const char *m = tset_meet(&q, &d);
    CHECK_MSG(m != NULL, "query \"%s\" does not meet \"%s\" in \"%s\"", query,
              word, post);
    if (via)
        CHECK_MSG(tset_has(&q, via) && tset_has(&d, via),
                  "query \"%s\" / \"%s\": no shared %s", query, word, via);
    tset_free(&q);
    tset_free(&d);
}

static void check_not_meets(const char *query, const char *post,
                            cxs_lang lang) {
    tset q = {0}, d = {0};
    terms_of(query, CXS_LANG_UNKNOWN, NULL, &q);
    terms_of(post, lang, NULL, &d);
    const char *m = tset_meet(&q, &d);
    CHECK_MSG(m == NULL, "query \"%s\" should not meet \"%s\" (via %s)", query,
              post, m ? m : "");
    tset_free(&q);
    tset_free(&d);
}

static void check_term(const char *text, cxs_lang lang, const char *term,
                       int want) {
    tset t = {0};
    terms_of(text, lang, NULL, &t);
    CHECK_MSG(tset_has(&t, term) == want, "\"%s\" (lang %s): %s %s", text,
              cxs_lang_code(lang), term, want ? "missing" : "unexpected");
    tset_free(&t);
}

/* ---- rule 1: segmentation; emoji, symbols, reaction counts ---- */

static void test_rule1_segmentation(void) {
    static const struct {
        const char *text, *forms;
    } cases[] = {
        {"Клиентский опыт — это 🔥 всё!", "клиентский опыт это все"},
        {"🔥28❤8 👍🏻12 ✅", ""},
        {"👏 15 🙏3", "15"},
        {"1️⃣ Первый шаг, 2️⃣ второй",
         "первый шаг второй"},
        {"«Цитата», (скобки) и… точки???", "цитата скобки и точки"},
        {"NPS вырос на 12% 🚀🚀", "nps вырос на 12"},
        {"★★★★☆ → ok", "ok"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(forms_of(cases[i].text), cases[i].forms);
}

/* ---- rule 2: NFKC, case folding, ё ---- */

static void test_rule2_normalization(void) {
    static const struct {
        const char *text, *form;
    } cases[] = {
        {"удовлетворённость", "удовлетворенность"},
        {"ЁЛКИ", "елки"},
        {"Ёж", "еж"},
        {"Ｃｕｓｔｏｍｅｒ", "customer"},
        {"ﬁdelizzazione", "fidelizzazione"},
        {"Straße", "strasse"},
        {"soft\xC2\xADhyphen", "softhyphen"},
        {"молоко\xCC\x81", "молоко"},
        {"ОПЫТ", "опыт"},
        {"ÈCCO", "ècco"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(forms_of(cases[i].text), cases[i].form);
    check_meets("удовлетворённость", "Высокая удовлетворенность клиентов",
                CXS_LANG_RU, "удовлетворенность", "E:удовлетворенность");
    check_meets("удовлетворенность", "Растёт удовлетворённость клиентов",
                CXS_LANG_RU, "удовлетворённость", "E:удовлетворенность");
}

/* ---- rule 3: accent-free fallback (Latin only) ---- */

static void test_rule3_accents(void) {
    static const struct {
        const char *query, *post, *word, *via;
    } meets[] = {
        {"perche", "Ecco perché il cliente torna", "perché", "A:perche"},
        {"citta", "Una città più vicina al cliente", "città", "A:citta"},
        {"qualita", "La qualità del servizio", "qualità", "A:qualita"},
        {"perché", "Ecco perché il cliente torna", "perché", "E:perché"},
    };
    for (size_t i = 0; i < sizeof meets / sizeof meets[0]; i++)
        check_meets(meets[i].query, meets[i].post, CXS_LANG_IT, meets[i].word,
                    meets[i].via);
    /* The index side adds the accent-free form only when it differs. */
    check_term("città", CXS_LANG_IT, "A:citta", 1);
    check_term("cliente", CXS_LANG_IT, "A:cliente", 0);
    /* й is a letter of its own, not и with a breve; Russian gets no
     * accent-free form at all. */
    check_term("йогурт", CXS_LANG_RU, "E:йогурт", 1);
    check_term("йогурт", CXS_LANG_UNKNOWN, "A:иогурт", 0);
    check_term("йогурт", CXS_LANG_UNKNOWN, "E:иогурт", 0);
    tset t = {0};
    terms_of("мой йогурт", CXS_LANG_RU, NULL, &t);
    CHECK_INT(tset_count_prefix(&t, "A:"), 0);
    tset_free(&t);
}

/* ---- rule 4: Italian elision; English contractions ---- */

static void test_rule4_elision(void) {
    static const struct {
        const char *text, *forms;
    } cases[] = {
        {"dell'informazione", "dell' informazione"},
        {"dell’informazione", "dell' informazione"},
        {"dell`informazione", "dell' informazione"},
        {"dellʼinformazione", "dell' informazione"},
        {"L'esperienza", "l' esperienza"},
        {"un’altra volta", "un' altra volta"},
        {"nell'ambito dell'e-commerce",
         "nell' ambito dell' e-commerce e commerce"},
        {"c'è l'80% quest'anno", "c' è l' 80 quest' anno"},
        {"sull'app, all'interno, anch'io", "sull' app all' interno anch' io"},
        {"Sant'Antonio", "sant' antonio"},
        {"don't it's O'Brien", "don't it's o'brien"},
        {"customer’s journey", "customer's journey"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(forms_of(cases[i].text), cases[i].forms);
    toks t;
    tokens_of("dell’informazione Sant'Antonio", &t);
    CHECK_INT(t.n, 4);
    CHECK(t.v[0].flags & CXS_TOKF_STOPWORD);
    CHECK(!(t.v[1].flags & CXS_TOKF_STOPWORD));
    CHECK_INT(t.v[1].pos, 1);
    CHECK(!(t.v[2].flags & CXS_TOKF_STOPWORD)); /* sant' is not one */
    /* The query "informazione" finds the elided word, both apostrophes. */
    check_meets("informazione", "Il valore dell'informazione", CXS_LANG_IT,
                "informazione", "E:informazione");
    check_meets("informazione", "Il valore dell’informazione", CXS_LANG_IT,
                "informazione", "E:informazione");
    check_meets("dell’informazione", "Il valore dell'informazione", CXS_LANG_IT,
                "informazione", "E:informazione");
    check_meets("esperienze", "Parliamo dell'esperienza", CXS_LANG_IT,
                "esperienza", NULL);
    /* The article has its exact form and nothing else. */
    tset a = {0};
    terms_of("dell'informazione", CXS_LANG_UNKNOWN, "dell'", &a);
    CHECK_INT(a.n, 1);
    CHECK(tset_has(&a, "E:dell'"));
    tset_free(&a);
    /* No glued form like "lesperienza" is ever made. */
    check_term("l'esperienza", CXS_LANG_IT, "E:lesperienza", 0);
    check_term("l'esperienza", CXS_LANG_IT, "E:l'esperienza", 0);
}

/* ---- rule 5: compounds ---- */

static void test_rule5_compounds(void) {
    static const struct {
        const char *text, *forms;
    } cases[] = {
        {"NPS-CSI", "nps-csi nps csi"},
        {"NPS/CSI", "nps-csi nps csi"},
        {"e-commerce", "e-commerce e commerce"},
        {"CX-исследователь", "cx-исследователь cx исследователь"},
        {"B2B/B2C-продажи", "b2b-b2c-продажи b2b b2c продажи"},
        {"2019-2024", "2019-2024 2019 2024"},
        {"опыт - сервис", "опыт сервис"}, /* spaced dash: no compound */
        {"кто-то", "кто-то кто то"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(forms_of(cases[i].text), cases[i].forms);
    toks t;
    tokens_of("Метрики NPS/CSI растут", &t);
    CHECK_INT(t.n, 5);
    CHECK_INT(t.v[1].pos, 1);
    CHECK(t.v[1].flags & CXS_TOKF_COMPOUND);
    CHECK_INT(t.v[2].pos, 1);
    CHECK(t.v[2].flags & CXS_TOKF_PART);
    CHECK_INT(t.v[3].pos, 2);
    CHECK(t.v[3].flags & CXS_TOKF_PART);
    CHECK_INT(t.v[4].pos, 3);
    /* Parts of compounds are never stopwords ("e" of e-commerce). */
    tokens_of("e-commerce", &t);
    CHECK(!(t.v[1].flags & CXS_TOKF_STOPWORD));
    check_meets("NPS/CSI", "Сравнили NPS-CSI за год", CXS_LANG_RU, "NPS-CSI",
                "E:nps-csi");
    check_meets("NPS-CSI", "Сравнили NPS/CSI за год", CXS_LANG_RU, "NPS/CSI",
                "E:nps-csi");
    check_meets("csi", "Сравнили NPS/CSI за год", CXS_LANG_RU, "CSI", "E:csi");
    check_meets("исследователя", "Работа CX-исследователь", CXS_LANG_RU,
                "исследователь", "L:исследователь");
    check_meets("ecommerce", "Vendite e-commerce", CXS_LANG_IT, "e-commerce",
                NULL);
}

/* ---- rule 6: acronyms, mixed case ---- */

static void test_rule6_acronyms(void) {
    static const char *const words[] = {"NPS", "CSI", "CES", "CJM", "CX"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char lower[8], post[64];
        size_t n = strlen(words[i]);
        for (size_t k = 0; k <= n; k++)
            lower[k] = (char)(words[i][k] | (words[i][k] ? 32 : 0));
        snprintf(post, sizeof post, "Считаем %s каждый месяц", words[i]);
        char via[16];
        snprintf(via, sizeof via, "E:%s", lower);
        check_meets(lower, post, CXS_LANG_RU, words[i], via);
        check_meets(words[i], post, CXS_LANG_RU, words[i], via);
    }
    toks t;
    tokens_of("NPS Nps nps X", &t);
    CHECK_INT(t.n, 4);
    CHECK(t.v[0].flags & CXS_TOKF_CAPS);
    CHECK(!(t.v[1].flags & CXS_TOKF_CAPS));
    CHECK(!(t.v[2].flags & CXS_TOKF_CAPS));
    CHECK(!(t.v[3].flags & CXS_TOKF_CAPS)); /* one letter is no acronym */
    CHECK_STR(t.v[1].form, "nps");
}

/* ---- rule 7: look-alike letters across scripts ---- */

static void test_rule7_lookalikes(void) {
    /* "СХ" below is Cyrillic Es + Ha; "CX" is Latin. */
    check_meets("CX", "Наш \xD0\xA1\xD0\xA5 растёт", CXS_LANG_RU,
                "\xD0\xA1\xD0\xA5", "E:cx");
    check_meets("\xD0\xA1\xD0\xA5", "Il nostro CX cresce", CXS_LANG_IT, "CX",
                "E:cx");
    check_meets("cx", "Наш \xD0\xA1\xD0\xA5 растёт", CXS_LANG_RU,
                "\xD0\xA1\xD0\xA5", "E:cx");
    /* СЕО (Cyrillic) and CEO (Latin). */
    check_meets("CEO", "\xD0\xA1\xD0\x95\xD0\x9E компании", CXS_LANG_RU,
                "\xD0\xA1\xD0\x95\xD0\x9E", "E:ceo");
    /* A Latin c inside a Russian word: the all-Cyrillic form is indexed,
     * with its lemma. */
    check_meets("клиентский", "наш клиентcкий путь", CXS_LANG_RU, "клиентcкий",
                "E:клиентский");
    check_meets("клиентского", "наш клиентcкий путь", CXS_LANG_RU, "клиентcкий",
                "L:клиентский");
    /* A Cyrillic с inside an English word. */
    check_meets("customer", "the \xD1\x81ustomer path", CXS_LANG_EN,
                "\xD1\x81ustomer", "E:customer");
    /* Compounds fold part by part. */
    check_meets("CX-исследователь", "\xD0\xA1\xD0\xA5-исследователь",
                CXS_LANG_RU, "\xD0\xA1\xD0\xA5-исследователь",
                "E:cx-исследователь");
    /* Ordinary Russian words are left alone, even made of look-alikes. */
    static const struct {
        const char *text, *term;
    } neg[] = {
        {"тот", "E:tot"},   {"сор", "E:cop"}, {"кот", "E:kot"},
        {"Сор", "E:cop"},   {"ВТБ", "E:btb"}, {"опыт", "E:onbit"},
        {"ТАКТ", "S:tact"},
    };
    for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++)
        check_term(neg[i].text, CXS_LANG_RU, neg[i].term, 0);
    check_not_meets("tot", "тот самый", CXS_LANG_RU);
}

/* ---- rule 8: hashtags, URLs, mentions, numbers ---- */

static void test_rule8_special(void) {
    toks t;
    tokens_of("Эссе #эссешка и #CX_research, C# не тег", &t);
    CHECK_INT(t.n, 7);
    CHECK_INT(t.v[1].kind, CXS_TOK_HASHTAG);
    CHECK_STR(t.v[1].form, "эссешка");
    CHECK_INT(t.v[3].kind, CXS_TOK_HASHTAG);
    CHECK_STR(t.v[3].form, "cx_research");
    CHECK_INT(t.v[4].kind, CXS_TOK_WORD); /* "c" of C# */
    check_term("#эссешка", CXS_LANG_RU, "T:эссешка", 1);
    check_term("#эссешка", CXS_LANG_RU, "E:эссешка", 1);
    check_term("#эссешки", CXS_LANG_RU, "S:эссешк", 1);
    check_meets("эссешка", "Новая #эссешка", CXS_LANG_RU, "#эссешка",
                "E:эссешка");

    static const struct {
        const char *text;
        cxs_token_kind kind;
        const char *form, *span;
    } cases[] = {
        {"см. https://Example.com/a_(b)?q=1).", CXS_TOK_URL,
         "https://example.com/a_(b)?q=1", "https://Example.com/a_(b)?q=1"},
        {"«https://x.ru/путь?q=1»!", CXS_TOK_URL, "https://x.ru/путь?q=1",
         "https://x.ru/путь?q=1"},
        {"канал t.me/cxlogic, да", CXS_TOK_URL, "t.me/cxlogic", "t.me/cxlogic"},
        {"сайт www.esempio.it.", CXS_TOK_URL, "www.esempio.it",
         "www.esempio.it"},
        {"пишите ivan@example.com", CXS_TOK_URL, "ivan@example.com",
         "ivan@example.com"},
        {"спасибо @Ivan_Petrov!", CXS_TOK_MENTION, "@ivan_petrov",
         "@Ivan_Petrov"},
        {"в 2024 году", CXS_TOK_NUMBER, "2024", "2024"},
        {"эфир 22.03.24 в 19:00", CXS_TOK_NUMBER, "22.03.24", "22.03.24"},
        {"рост 3,5 пункта", CXS_TOK_NUMBER, "3,5", "3,5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tokens_of(cases[i].text, &t);
        int found = 0;
        for (int k = 0; k < t.n; k++) {
            if (t.v[k].kind != cases[i].kind)
                continue;
            found = 1;
            CHECK_STR(t.v[k].form, cases[i].form);
            CHECK_INT(t.v[k].end - t.v[k].start, strlen(cases[i].span));
            CHECK(memcmp(cases[i].text + t.v[k].start, cases[i].span,
                         strlen(cases[i].span)) == 0);
            break;
        }
        CHECK_MSG(found, "no token of kind %d in \"%s\"", cases[i].kind,
                  cases[i].text);
    }
    /* URLs and mentions: one exact term, never stemmed. */
    tset s = {0};
    terms_of("https://example.com/customers @customers", CXS_LANG_EN, NULL, &s);
    CHECK_INT(s.n, 2);
    CHECK(tset_has(&s, "E:https://example.com/customers"));
    CHECK(tset_has(&s, "E:@customers"));
    tset_free(&s);
    /* A URL longer than Xapian's term limit is cut at a UTF-8 boundary. */
    char url[1200] = "https://example.com/";
    for (int i = 0; i < 200; i++)
        strcat(url, "п");
    terms_of(url, CXS_LANG_RU, NULL, &s);
    CHECK_INT(s.n, 1);
    CHECK(s.n == 1 && strlen(s.s[0]) - 2 <= 240);
    CHECK(s.n == 1 && (strlen(s.s[0]) - 2 - 20) % 2 == 0);
    tset_free(&s);
}

/* ---- rule 9: dictionary lemmas beside Snowball stems ---- */

static void test_rule9_lemmas(void) {
    static const struct {
        const char *query, *post;
        cxs_lang lang;
        const char *word, *via;
    } cases[] = {
        {"клиентский опыт", "Про клиентского опыта", CXS_LANG_RU, "опыта",
         "L:опыт"},
        {"опыт", "Про опыту команды", CXS_LANG_RU, "опыту", "L:опыт"},
        {"клиентский", "Про клиентского опыта", CXS_LANG_RU, "клиентского",
         "L:клиентский"},
        {"ciarlatano", "Sono tutti ciarlatani", CXS_LANG_IT, "ciarlatani",
         "L:ciarlatano"},
        {"ciarlatani", "Un vero ciarlatano", CXS_LANG_IT, "ciarlatano",
         "L:ciarlatano"},
        {"кастомизация", "Про кастомизации сервиса", CXS_LANG_RU,
         "кастомизации", "S:кастомизац"},
        {"journeys", "A customer journey map", CXS_LANG_EN, "journey",
         "L:journey"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_meets(cases[i].query, cases[i].post, cases[i].lang, cases[i].word,
                    cases[i].via);
    /* Why: Snowball alone splits these pairs. */
    check_term("опыт", CXS_LANG_RU, "S:оп", 1);
    check_term("опыта", CXS_LANG_RU, "S:опыт", 1);
    check_term("ciarlatano", CXS_LANG_IT, "S:ciarlat", 1);
    check_term("ciarlatani", CXS_LANG_IT, "S:ciarlatan", 1);
    /* A word the dictionary does not know gets the stem only. */
    tset t = {0};
    terms_of("кастомизация", CXS_LANG_RU, NULL, &t);
    CHECK_INT(tset_count_prefix(&t, "L:"), 0);
    CHECK_INT(tset_count_prefix(&t, "S:"), 1);
    tset_free(&t);
    /* Lemmas are folded like forms (proper nouns come capitalized). */
    check_term("Москвы", CXS_LANG_RU, "L:москва", 1);
    /* Acronyms get no dictionary lemma (Hunspell reads "cx" as "x"). */
    check_term("CX", CXS_LANG_UNKNOWN, "L:x", 0);
    /* With lemmas off: stems only. */
    cxs_stemmers_config cfg = {0};
    cxs_stemmers *b = NULL;
    cxs_err err = {0};
    CHECK(cxs_stemmers_new(&cfg, &b, &err) == CXS_OK);
    cxs_stemmers *keep = A;
    A = b;
    terms_of("клиентского опыта", CXS_LANG_RU, NULL, &t);
    CHECK_INT(tset_count_prefix(&t, "L:"), 0);
    CHECK(tset_has(&t, "S:опыт"));
    tset_free(&t);
    A = keep;
    cxs_stemmers_free(b);
}

/* ---- rule 10: language detection and per-token language ---- */

static void test_rule10_language(void) {
    static const struct {
        const char *text;
        cxs_lang lang;
    } detect[] = {
        {"Клиентский опыт складывается из мелочей: как ответили в "
         "поддержке, как быстро решили вопрос.",
         CXS_LANG_RU},
        {"L'esperienza del cliente nasce dai dettagli: come risponde il "
         "supporto e quanto in fretta risolve.",
         CXS_LANG_IT},
        {"Customer experience is built from small things: how support "
         "answers and how fast it solves the problem.",
         CXS_LANG_EN},
        {"Наш NPS за квартал вырос, а customer journey стал короче и "
         "понятнее для новых клиентов.",
         CXS_LANG_RU},
        {"ok", CXS_LANG_UNKNOWN},
        {"", CXS_LANG_UNKNOWN},
        {"\xff\xfe\x00\xc0", CXS_LANG_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof detect / sizeof detect[0]; i++)
        CHECK_INT(
            cxs_stemmers_detect_lang(A, detect[i].text, strlen(detect[i].text)),
            detect[i].lang);
    static const struct {
        const char *text;
        cxs_lang lang;
        const char *term;
        int want;
    } stems[] = {
        {"esperienze", CXS_LANG_IT, "S:esperient", 1},
        {"esperienze", CXS_LANG_RU, "S:esperient", 0},
        {"esperienze", CXS_LANG_UNKNOWN, "S:esperient", 1},
        {"journeys", CXS_LANG_RU, "S:journey", 1},
        {"journeys", CXS_LANG_EN, "S:journey", 1},
        {"journeys", CXS_LANG_UNKNOWN, "S:journey", 1},
        {"опыта", CXS_LANG_IT, "S:опыт", 1},
        {"опыта", CXS_LANG_EN, "L:опыт", 1},
    };
    for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++)
        check_term(stems[i].text, stems[i].lang, stems[i].term, stems[i].want);
    CHECK_STR(cxs_lang_code(CXS_LANG_IT), "it");
    CHECK_STR(cxs_lang_code(CXS_LANG_UNKNOWN), "");
    CHECK_INT(cxs_lang_from_code("RUS"), CXS_LANG_RU);
    CHECK_INT(cxs_lang_from_code("en"), CXS_LANG_EN);
    CHECK_INT(cxs_lang_from_code("fr"), CXS_LANG_UNKNOWN);
    CHECK_INT(cxs_lang_from_code(NULL), CXS_LANG_UNKNOWN);
}

/* ---- rule 11: exact forms beside stems, exact first ---- */

typedef struct order_ctx {
    size_t last_start;
    unsigned last_pos, last_flags;
    int started, first_exact_bad, tokens;
    char first[64];
} order_ctx;

static int on_order(void *ud, cxs_term_kind kind, const char *t, size_t n,
                    const cxs_token *tok) {
    order_ctx *c = ud;
    if (!c->started || tok->start != c->last_start || tok->pos != c->last_pos ||
        tok->flags != c->last_flags) {
        c->started = 1, c->tokens++;
        c->last_start = tok->start, c->last_pos = tok->pos;
        c->last_flags = tok->flags;
        if (kind != CXS_TERM_EXACT || n != tok->form_len ||
            memcmp(t, tok->form, n) != 0)
            c->first_exact_bad++;
    }
    return 0;
}

static void test_rule11_exact(void) {
    const char *text = "Клиентского опыта больше, perché #CX e-commerce";
    order_ctx c = {0};
    cxs_err err = {0};
    CHECK(cxs_stemmers_terms(A, text, strlen(text), CXS_LANG_IT, on_order, &c,
                             &err) == CXS_OK);
    CHECK_INT(c.first_exact_bad, 0);
    CHECK(c.tokens >= 7);
    tset t = {0};
    terms_of("опыта", CXS_LANG_RU, NULL, &t);
    CHECK(tset_has(&t, "E:опыта") && tset_has(&t, "L:опыт") &&
          tset_has(&t, "S:опыт"));
    tset_free(&t);
    /* The exact query form meets the exact post form, a different form
     * only through lemma/stem: so exact matches can rank first. */
    check_meets("опыта", "Про опыта", CXS_LANG_RU, "опыта", "E:опыта");
    tset q = {0}, d = {0};
    terms_of("опыт", CXS_LANG_UNKNOWN, NULL, &q);
    terms_of("опыта", CXS_LANG_RU, NULL, &d);
    CHECK(!tset_has(&d, "E:опыт"));
    CHECK(tset_has(&q, "E:опыт"));
    tset_free(&q);
    tset_free(&d);
}

/* ---- rule 12: stopwords ---- */

static void test_rule12_stopwords(void) {
    static const struct {
        const char *text;
        int stop[6];
    } cases[] = {
        {"опыт и сервис в банке", {0, 1, 0, 1, 0}},
        {"l'esperienza della cliente", {1, 0, 1, 0}},
        {"the journey of it", {1, 0, 1, 1}},
        {"don't stop", {1, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        toks t;
        tokens_of(cases[i].text, &t);
        for (int k = 0; k < t.n; k++) {
            CHECK_MSG(!!(t.v[k].flags & CXS_TOKF_STOPWORD) == cases[i].stop[k],
                      "\"%s\" token %d (%s)", cases[i].text, k, t.v[k].form);
            CHECK_INT(t.v[k].pos, k); /* positions include stopwords */
        }
    }
    /* Stopwords still have terms (phrases need them). */
    check_term("опыт и сервис", CXS_LANG_RU, "E:и", 1);
    /* By the token's language: "come" is Italian, not English (below). */
    tset t = {0};
    terms_of("come", CXS_LANG_IT, NULL, &t);
    CHECK(tset_has(&t, "E:come"));
    tset_free(&t);
}

static int first_flags(void *ud, cxs_term_kind k, const char *t, size_t n,
                       const cxs_token *tok) {
    (void)k, (void)t, (void)n;
    *(unsigned *)ud = tok->flags;
    return 1; /* stop at once */
}

static void write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static void test_rule12_stopword_files(void) {
    unsigned fl = 0;
    cxs_err err = {0};
    CHECK(cxs_stemmers_terms(A, "come", 4, CXS_LANG_IT, first_flags, &fl,
                             &err) == CXS_OK);
    CHECK(fl & CXS_TOKF_STOPWORD);
    CHECK(cxs_stemmers_terms(A, "come", 4, CXS_LANG_EN, first_flags, &fl,
                             &err) == CXS_OK);
    CHECK(!(fl & CXS_TOKF_STOPWORD));

    char dir[] = "/tmp/cxs_test_stemmers_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/stopwords", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/stopwords/ru.txt", dir);
    write_file(path, "# only one\nОПЫТ  # comment\n\n");
    snprintf(path, sizeof path, "%s/stopwords/it.txt", dir);
    write_file(path, "della\n");
    snprintf(path, sizeof path, "%s/stopwords/en.txt", dir);
    write_file(path, "the\n");
    cxs_stemmers_config cfg = {dir, NULL, 0, 0};
    cxs_stemmers *b = NULL;
    CHECK(cxs_stemmers_new(&cfg, &b, &err) == CXS_OK);
    if (b) {
        CHECK(cxs_stemmers_terms(b, "опыт", strlen("опыт"), CXS_LANG_RU,
                                 first_flags, &fl, &err) == CXS_OK);
        CHECK(fl & CXS_TOKF_STOPWORD);
        CHECK(cxs_stemmers_terms(b, "и", strlen("и"), CXS_LANG_RU, first_flags,
                                 &fl, &err) == CXS_OK);
        CHECK(!(fl & CXS_TOKF_STOPWORD));
        cxs_stemmers_free(b);
    }
    /* Bad UTF-8: an error naming file and line. */
    snprintf(path, sizeof path, "%s/stopwords/en.txt", dir);
    write_file(path, "the\n# fine\nbad\xff\n");
    b = NULL;
    CHECK(cxs_stemmers_new(&cfg, &b, &err) == CXS_ERR_PARSE);
    CHECK(b == NULL);
    CHECK_MSG(strstr(err.msg, "en.txt:3") != NULL, "message: %s", err.msg);
    /* Two words on a line. */
    write_file(path, "the a\n");
    CHECK(cxs_stemmers_new(&cfg, &b, &err) == CXS_ERR_PARSE);
    CHECK(strstr(err.msg, "en.txt:1") != NULL);
    /* Missing file. */
    unlink(path);
    CHECK(cxs_stemmers_new(&cfg, &b, &err) == CXS_ERR_IO);
    CHECK(strstr(err.msg, "en.txt") != NULL);
    snprintf(path, sizeof path, "%s/stopwords/ru.txt", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/stopwords/it.txt", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/stopwords", dir);
    rmdir(path);
    rmdir(dir);
}

/* ---- rule 13 and spans: bad input never crashes ---- */

typedef struct span_ctx {
    const char *text;
    size_t len;
    int bad_span, bad_form, bad_pos, n;
    unsigned next_pos;
} span_ctx;

static int valid_utf8(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] < 0x80 ? 1 : p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : 2;
        if (p[i] >= 0x80 && p[i] < 0xC2)
            return 0;
        if (i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

static int on_span(void *ud, const cxs_token *t) {
    span_ctx *c = ud;
    c->n++;
    if (t->start >= t->end || t->end > c->len)
        c->bad_span++;
    if (t->form_len == 0 || t->form_len > 240 ||
        !valid_utf8(t->form, t->form_len) || memchr(t->form, '\0', t->form_len))
        c->bad_form++;
    if (t->flags & CXS_TOKF_COMPOUND) {
        if (t->pos != c->next_pos)
            c->bad_pos++;
    } else if (t->pos != c->next_pos++) {
        c->bad_pos++;
    }
    return 0;
}

static void check_robust(const char *text, size_t len, int min_tokens) {
    span_ctx c = {text, len, 0, 0, 0, 0, 0};
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, text, len, on_span, &c, &err) == CXS_OK);
    CHECK_INT(c.bad_span, 0);
    CHECK_INT(c.bad_form, 0);
    CHECK_INT(c.bad_pos, 0);
    CHECK_MSG(c.n >= min_tokens, "%d tokens, want >= %d", c.n, min_tokens);
    tset t = {0};
    term_ctx tc = {&t, text, "\x01", 0}; /* count only, keep nothing */
    CHECK(cxs_stemmers_terms(A, text, len, CXS_LANG_UNKNOWN, on_term, &tc,
                             &err) == CXS_OK);
    CHECK_INT(tc.bad, 0);
}

static void test_rule13_bad_input(void) {
    static const struct {
        const char *text;
        size_t len;
        const char *forms;
    } cases[] = {
        {"abc\xff\xfe"
         "def",
         8, "abc def"},
        {"abc\0def", 7, "abc def"},
        {"опыт\xd0", 9, "опыт"},
        {"a\xc0\xaf"
         "b",
         4, "a b"},
        {"x\xed\xa0\x80y", 5, "x y"},
        {"\xf4\x90\x80\x80z", 5, "z"},
        {"\xef\xbf\xbd", 3, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        toks t = {0};
        cxs_err err = {0};
        CHECK(cxs_stemmers_tokenize(A, cases[i].text, cases[i].len, on_token,
                                    &t, &err) == CXS_OK);
        char buf[256] = "";
        for (int k = 0; k < t.n; k++) {
            if (k)
                strcat(buf, " ");
            strcat(buf, t.v[k].form);
        }
        CHECK_STR(buf, cases[i].forms);
        check_robust(cases[i].text, cases[i].len, 0);
    }
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, NULL, 5, on_span, NULL, &err) ==
          CXS_ERR_INVALID);
    CHECK(cxs_stemmers_tokenize(A, NULL, 0, on_span, NULL, &err) == CXS_OK);

    size_t big = 1u << 20;
    char *s = malloc(big + 1);
    /* 1 MB of random bytes. */
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (char)(x >> 16);
    }
    check_robust(s, big, 1);
    /* 1 MB of one "word". */
    memset(s, 'a', big);
    check_robust(s, big, 1);
    /* 1 MB of mixed text: spans across chunk boundaries stay right. */
    const char *unit = "Клиентского опыта 🔥28 dell’informazione NPS/CSI "
                       "#эссешка https://t.me/x ";
    size_t ul = strlen(unit), n = 0;
    while (n + ul <= big) {
        memcpy(s + n, unit, ul);
        n += ul;
    }
    check_robust(s, n, 1000);
    free(s);
}

static void test_spans(void) {
    static const char *const texts[] = {
        "Клиентского опыта, ЁЛКИ и СХ-исследователь!",
        "Ecco dell’informazione: perché? #CX l'80%",
        "NPS/CSI 🔥28 www.site.it/путь?a=1 @Ivan e-commerce",
        "a\xffКлиент\0опыт",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        if (i == 3)
            len = 17;
        toks t = {0};
        cxs_err err = {0};
        CHECK(cxs_stemmers_tokenize(A, texts[i], len, on_token, &t, &err) ==
              CXS_OK);
        /* Re-analyzing a token's span alone gives the same form (an
         * elided article alone is no elision: compare without its '). */
        for (int k = 0; k < t.n; k++) {
            size_t fl = strlen(t.v[k].form);
            if (fl && t.v[k].form[fl - 1] == '\'')
                t.v[k].form[fl - 1] = '\0';
            toks again = {0};
            const char *span = texts[i] + t.v[k].start;
            size_t sl = t.v[k].end - t.v[k].start;
            CHECK(cxs_stemmers_tokenize(A, span, sl, on_token, &again, &err) ==
                  CXS_OK);
            CHECK_MSG(again.n >= 1 && strcmp(again.v[0].form, t.v[k].form) == 0,
                      "span %zu..%zu of \"%s\" is \"%.*s\", form %s",
                      t.v[k].start, t.v[k].end, texts[i], (int)sl, span,
                      t.v[k].form);
        }
    }
    /* Exact spans, by hand. */
    const char *s = "Про «клиентского опыта» 🔥";
    toks t;
    tokens_of(s, &t);
    CHECK_INT(t.n, 3);
    CHECK_INT(t.v[1].start, strlen("Про «"));
    CHECK_INT(t.v[1].end, strlen("Про «клиентского"));
    CHECK_INT(t.v[2].end, strlen("Про «клиентского опыта"));
}

/* ---- the query side: expand() on tokens equals terms() ---- */

typedef struct exp_ctx {
    tset *set;
} exp_ctx;

static int on_exp_token(void *ud, const cxs_token *tok) {
    exp_ctx *c = ud;
    term_ctx tc = {c->set, NULL, NULL, 0};
    cxs_token copy = *tok;
    char form[256];
    memcpy(form, tok->form, tok->form_len);
    copy.form = form; /* the query parser may keep its own copy */
    cxs_stemmers_expand(A, &copy, CXS_LANG_UNKNOWN, on_term, &tc);
    return 0;
}

static void test_expand_matches_terms(void) {
    const char *q = "Клиентский опыт dell’informazione СХ NPS/CSI #эссешка "
                    "perche клиентcкий";
    tset a = {0}, b = {0};
    terms_of(q, CXS_LANG_UNKNOWN, NULL, &a);
    exp_ctx c = {&b};
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, q, strlen(q), on_exp_token, &c, &err) ==
          CXS_OK);
    CHECK_INT(a.n, b.n);
    for (int i = 0; i < a.n && i < b.n; i++)
        CHECK_STR(a.s[i], b.s[i]);
    tset_free(&a);
    tset_free(&b);
}

static int stop_after_two(void *ud, const cxs_token *t) {
    (void)t;
    return ++*(int *)ud >= 2;
}

static void test_early_stop(void) {
    int n = 0;
    cxs_err err = {0};
    CHECK(cxs_stemmers_tokenize(A, "один два три четыре",
                                strlen("один два три четыре"), stop_after_two,
                                &n, &err) == CXS_OK);
    CHECK_INT(n, 2);
}

/* ---- analyzers of several threads sharing one lemma cache ---- */

static const char *const shared_texts[] = {
    "Клиентские пути клиентов проверяли трижды, и каждый путь кончался "
    "опросом NPS.",
    "Le aziende misurano l'esperienza dei clienti con sondaggi brevi.",
    "Onboarding journeys of customers were mapped by the service team.",
    "Опросы удовлетворённости клиентов повторяли каждый квартал."};
#define NSHARED (sizeof shared_texts / sizeof shared_texts[0])
static const cxs_lang shared_langs[NSHARED] = {CXS_LANG_RU, CXS_LANG_IT,
                                               CXS_LANG_EN, CXS_LANG_RU};

typedef struct share_job {
    cxs_stemmers *an;
    tset out[NSHARED];
    int rounds;
    int failed; /* checked on the main thread: the harness is not locked */
} share_job;

/* Analyzes every text, rounds times, keeping the terms of the last round. */
static void *share_worker(void *arg) {
    share_job *j = arg;
    for (int r = 0; r < j->rounds; r++)
        for (size_t i = 0; i < NSHARED; i++) {
            tset_free(&j->out[i]);
            term_ctx c = {&j->out[i], shared_texts[i], NULL, 0};
            cxs_err err = {0};
            j->failed |= cxs_stemmers_terms(j->an, shared_texts[i],
                                            strlen(shared_texts[i]),
                                            shared_langs[i], on_term, &c,
                                            &err) != CXS_OK || c.bad;
        }
    return NULL;
}

static void check_same_terms(const tset *a, const tset *b) {
    CHECK_INT(a->n, b->n);
    for (int k = 0; k < a->n && k < b->n; k++)
        CHECK_STR(a->s[k], b->s[k]);
}

/* An analyzer sharing A's cache, used on another thread at the same time
 * as A, gives the terms an analyzer of its own gives; A works on after it
 * is freed. */
static void test_shared_cache(void) {
    cxs_stemmers *own = NULL, *b = NULL;
    cxs_err err = {0};
    CHECK(cxs_stemmers_new(NULL, &own, &err) == CXS_OK);
    CHECK(cxs_stemmers_new(NULL, &b, &err) == CXS_OK);
    if (!own || !b)
        return;
    cxs_stemmers_share_cache(b, A);
    cxs_stemmers_share_cache(b, A); /* sharing twice changes nothing */
    share_job ja = {.an = A, .rounds = 1}, jb = {.an = b, .rounds = 1};
    share_job jo = {.an = own, .rounds = 1};
    /* Words A has looked up are not looked up again for b. */
    share_worker(&ja);
    unsigned long misses = A->cache->misses;
    share_worker(&jb);
    CHECK(b->cache == A->cache);
    CHECK_INT((long)A->cache->misses, (long)misses);
    ja.rounds = jb.rounds = 50;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, share_worker, &jb) == 0);
    share_worker(&ja);
    pthread_join(t, NULL);
    share_worker(&jo);
    CHECK(!ja.failed && !jb.failed && !jo.failed);
    for (size_t i = 0; i < NSHARED; i++) {
        CHECK_MSG(jo.out[i].n > 10, "text %zu: %d terms", i, jo.out[i].n);
        check_same_terms(&jo.out[i], &ja.out[i]);
        check_same_terms(&jo.out[i], &jb.out[i]);
    }
    cxs_stemmers_free(b);
    share_worker(&ja); /* the cache outlives b */
    CHECK(!ja.failed);
    for (size_t i = 0; i < NSHARED; i++) {
        check_same_terms(&jo.out[i], &ja.out[i]);
        tset_free(&ja.out[i]), tset_free(&jb.out[i]), tset_free(&jo.out[i]);
    }
    cxs_stemmers_free(own);
}

int main(void) {
    cxs_err err = {0};
    if (cxs_stemmers_new(NULL, &A, &err) != CXS_OK) {
        fprintf(stderr, "analyzer: %s\n", err.msg);
        return 1;
    }
    RUN(test_rule1_segmentation);
    RUN(test_rule2_normalization);
    RUN(test_rule3_accents);
    RUN(test_rule4_elision);
    RUN(test_rule5_compounds);
    RUN(test_rule6_acronyms);
    RUN(test_rule7_lookalikes);
    RUN(test_rule8_special);
    RUN(test_rule9_lemmas);
    RUN(test_rule10_language);
    RUN(test_rule11_exact);
    RUN(test_rule12_stopwords);
    RUN(test_rule12_stopword_files);
    RUN(test_rule13_bad_input);
    RUN(test_spans);
    RUN(test_expand_matches_terms);
    RUN(test_early_stop);
    RUN(test_shared_cache);
    cxs_stemmers_free(A);
    return cxs_test_done();
}
