/*
 * meili_settings.c - /indexes/{uid}/settings and its sub-resources in
 * Meilisearch's form: what cxsearch does, said in Meilisearch's terms.
 *
 * Facts that shaped it:
 *  - cxsearch's behaviour is fixed by its analyzer and configuration, not
 *    per index: it searches title and text, filters on channel, author,
 *    lang, tags, id, date and year, sorts by date, ranks with BM25, and
 *    reads synonyms from a file (reloaded on SIGHUP). So every setting
 *    reads back as that.
 *  - Integrations set their settings at start-up and wait for the task.
 *    An update asking for what cxsearch already does is accepted (a task
 *    that succeeds and changes nothing); one asking for more is refused
 *    at once with invalid_settings_<name> (400) and a message saying what
 *    cxsearch does instead, so the integration fails visibly, not later.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "meili_api.h"
#include "meili_tasks.h"
#include "routes.h"

static const char *const FILTERABLE[] = {
    "author", "channel", "date", "id", "lang", "tags", "tag", "year", NULL};
static const char *const SORTABLE[] = {"date", NULL};
static const char *const SEARCHABLE[] = {"*",       "title", "text",
                                         "content", "body",  NULL};
static const char *const DISPLAYED[] = {"*", NULL};

static json_t *strings(const char *const *v) {
    json_t *a = json_array();
    for (size_t i = 0; v[i]; i++)
        if (strcmp(v[i], "tag") != 0 && strcmp(v[i], "content") != 0 &&
            strcmp(v[i], "body") != 0)
            json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The synonyms file in Meilisearch's form: each member maps to the other
 * members of its group. Read through this thread's reader's analyzer;
 * an empty object when there is no file or it cannot be read. */
static json_t *synonyms(const cxs_req *r) {
    json_t *o = json_object();
    cxs_index *ix = NULL;
    cxs_synonyms *syn = NULL;
    cxs_err err = {0};
    const char *path = r->snap->cfg->synonyms;
    if (!path || cxs_server_reader(r->srv, r->snap, &ix, &err) != CXS_OK ||
        cxs_synonyms_load(path, cxs_index_analyzer(ix), &syn, &err) != CXS_OK)
        return o;
    for (size_t g = 0; g < cxs_synonyms_count(syn); g++) {
        size_t n;
        const char *const *m = cxs_synonyms_members(syn, g, &n);
        for (size_t i = 0; i < n; i++) {
            json_t *others = json_object_get(o, m[i]);
            if (!others)
                json_object_set_new(o, m[i], others = json_array());
            for (size_t j = 0; j < n; j++)
                if (j != i)
                    json_array_append_new(others, cxs_json_cstr(m[j]));
        }
    }
    cxs_synonyms_free(syn);
    return o;
}

static json_t *all_settings(const cxs_req *r) {
    const cxs_server_config *c = r->snap->cfg;
    json_t *o = json_object();
    json_object_set_new(o, "displayedAttributes", json_pack("[s]", "*"));
    json_object_set_new(o, "searchableAttributes",
                        json_pack("[ss]", "title", "text"));
    json_object_set_new(o, "filterableAttributes", strings(FILTERABLE));
    json_object_set_new(o, "sortableAttributes", strings(SORTABLE));
    json_object_set_new(
        o, "rankingRules",
        json_pack("[ssss]", "words", "sort", "proximity", "attribute"));
    json_object_set_new(o, "stopWords", json_array());
    json_object_set_new(o, "nonSeparatorTokens", json_array());
    json_object_set_new(o, "separatorTokens", json_array());
    json_object_set_new(o, "dictionary", json_array());
    json_object_set_new(o, "synonyms", synonyms(r));
    json_object_set_new(o, "distinctAttribute", json_null());
    json_object_set_new(o, "proximityPrecision", json_string("byWord"));
    /* What forgiving search does (docs/query-language.md), in
     * Meilisearch's terms. */
    json_object_set_new(
        o, "typoTolerance",
        json_pack("{sbs{sisi}s[]s[]}", "enabled", c->forgive && c->typos,
                  "minWordSizeForTypos", "oneTypo", (int)c->typo_one_from,
                  "twoTypos", (int)c->typo_two_from, "disableOnWords",
                  "disableOnAttributes"));
    json_object_set_new(o, "faceting",
                        json_pack("{sis{ss}}", "maxValuesPerFacet", 100,
                                  "sortFacetValuesBy", "*", "count"));
    json_object_set_new(o, "pagination",
                        json_pack("{sI}", "maxTotalHits",
                                  (json_int_t)(c->max_offset + c->max_limit)));
    json_object_set_new(o, "searchCutoffMs", json_null());
    json_object_set_new(o, "localizedAttributes", json_null());
    json_object_set_new(o, "facetSearch", json_true());
    json_object_set_new(o, "prefixSearch", json_string("indexingTime"));
    return o;
}

/* kebab-case path names of the sub-resources and their camelCase keys. */
static const char *const NAMES[][2] = {
    {"displayed-attributes", "displayedAttributes"},
    {"searchable-attributes", "searchableAttributes"},
    {"filterable-attributes", "filterableAttributes"},
    {"sortable-attributes", "sortableAttributes"},
    {"ranking-rules", "rankingRules"},
    {"stop-words", "stopWords"},
    {"non-separator-tokens", "nonSeparatorTokens"},
    {"separator-tokens", "separatorTokens"},
    {"dictionary", "dictionary"},
    {"synonyms", "synonyms"},
    {"distinct-attribute", "distinctAttribute"},
    {"proximity-precision", "proximityPrecision"},
    {"typo-tolerance", "typoTolerance"},
    {"faceting", "faceting"},
    {"pagination", "pagination"},
    {"search-cutoff-ms", "searchCutoffMs"},
    {"localized-attributes", "localizedAttributes"},
    {"facet-search", "facetSearch"},
    {"prefix-search", "prefixSearch"}};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

static const char *camel(const char *kebab) {
    for (size_t i = 0; i < NNAMES; i++)
        if (!strcmp(NAMES[i][0], kebab))
            return NAMES[i][1];
    return NULL;
}

static bool in(const char *const *set, const char *s) {
    for (size_t i = 0; set[i]; i++)
        if (!strcmp(set[i], s))
            return 1;
    return 0;
}

/* 1 when v is null or an array of names all in set. */
static bool subset(const json_t *v, const char *const *set) {
    size_t i;
    const json_t *x;
    if (json_is_null(v))
        return 1;
    if (!json_is_array(v))
        return 0;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x) || !in(set, json_string_value(x)))
            return 0;
    }
    return 1;
}

/* 1 when asking for v under key changes nothing cxsearch does. */
static bool already(const cxs_req *r, const char *key, const json_t *v) {
    if (!strcmp(key, "filterableAttributes"))
        return subset(v, FILTERABLE);
    if (!strcmp(key, "sortableAttributes"))
        return subset(v, SORTABLE);
    if (!strcmp(key, "searchableAttributes"))
        return subset(v, SEARCHABLE);
    if (!strcmp(key, "displayedAttributes"))
        return subset(v, DISPLAYED);
    json_t *cur = all_settings(r);
    int same = json_is_null(v) || json_equal(json_object_get(cur, key), v);
    json_decref(cur);
    return same;
}

static void snake(const char *camel_name, char *out, size_t cap) {
    size_t j = 0;
    for (const char *s = camel_name; *s && j + 2 < cap; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            out[j++] = '_';
            out[j++] = (char)(*s - 'A' + 'a');
        } else {
            out[j++] = *s;
        }
    }
    out[j] = '\0';
}

static const char *why(const char *key) {
    if (!strcmp(key, "filterableAttributes"))
        return "cxsearch filters on author, channel, date, id, lang, tags "
               "and year only";
    if (!strcmp(key, "sortableAttributes"))
        return "cxsearch sorts by date only";
    if (!strcmp(key, "searchableAttributes"))
        return "cxsearch searches title and text (or content, body)";
    if (!strcmp(key, "synonyms"))
        return "cxsearch reads synonyms from its synonyms file (the "
               "`synonyms` configuration key; edit it and send SIGHUP)";
    return "this setting is fixed by cxsearch's analyzer and configuration";
}

/* Checks an update; a refusal is answered here. */
static bool check_update(cxs_req *r, const json_t *upd) {
    const char *key;
    const json_t *v;
    char code[96], name[64];
    json_object_foreach((json_t *)upd, key, v) {
        int known = 0;
        for (size_t i = 0; i < NNAMES; i++)
            known |= !strcmp(NAMES[i][1], key);
        snake(key, name, sizeof name);
        snprintf(code, sizeof code, "invalid_settings_%s", name);
        if (!known) {
            cxs_req_error(r, 400, "bad_request", "Unknown setting `%s`.", key);
            return 0;
        }
        if (!already(r, key, v)) {
            cxs_req_error(r, 400, code, "`%s` cannot be changed: %s.", key,
                          why(key));
            return 0;
        }
    }
    return 1;
}

void cxs_meili_settings(cxs_req *r, const char *sub) {
    const char *key = sub ? camel(sub) : NULL;
    json_error_t je;
    if (sub && !key)
        return cxs_req_error(r, 404, "not_found", "no such setting");
    if (r->method & (CXS_M_GET | CXS_M_HEAD)) {
        json_t *all = all_settings(r), *v = all;
        if (key) {
            v = json_incref(json_object_get(all, key));
            json_decref(all);
        }
        return cxs_req_json(r, 200, v);
    }
    if (r->method == CXS_M_DELETE) /* back to the defaults: these */
        return cxs_meili_enqueue_settings(r, json_object());
    json_t *body = json_loadb(r->body.data ? r->body.data : "", r->body.len,
                              JSON_DECODE_ANY, &je);
    if (!body)
        return cxs_req_error(r, 400, "malformed_payload",
                             "The JSON payload is not valid: %s", je.text);
    json_t *upd = key ? json_pack("{sO}", key, body) : json_incref(body);
    json_decref(body);
    if (!json_is_object(upd)) {
        json_decref(upd);
        return cxs_req_error(r, 400, "bad_request",
                             "The settings must be a JSON object.");
    }
    if (check_update(r, upd))
        return cxs_meili_enqueue_settings(r, upd);
    json_decref(upd);
}
