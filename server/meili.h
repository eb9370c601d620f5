/*
 * meili.h - Meilisearch filter expressions turned into a cxsearch filter
 * tree (meili_filter.c), for the Meilisearch-compatible API (api_meili.c).
 *
 * Facts that shaped it:
 *  - Widgets send filters in two forms: a string expression
 *    ("channel = cx_notes_ru AND NOT lang = it", parentheses, IN [...],
 *    "date 2023 TO 2024", "date >= 2024-03") and arrays of them, where the
 *    outer array is an AND and an inner array an OR of strings
 *    (instant-meilisearch sends [["\"lang\"=\"ru\"", "\"lang\"=\"it\""]]
 *    with quoted attribute names and values).
 *  - Only the attributes the index keeps as boolean terms or a date value
 *    can be filtered: channel, author, lang, tags (also "tag"), id, date
 *    and year. Field values are folded with cxs_terms_field, the same
 *    folding as indexing, so "channel = CX_Notes_RU" finds cx_notes_ru.
 *  - Dates compare as periods: "date = 2024-03" is all of March 2024,
 *    "date > 2024" starts in 2025, "date 2023 TO 2024-06" runs from the
 *    first second of 2023 to the last of June 2024. Unix seconds (more than
 *    four digits) are accepted too.
 *  - The input is a client's: depth (64 levels) and size (1000
 *    conditions) are bounded, and every error says what was expected and
 *    where.
 *
 * Thread-safety: pure functions over their arguments.
 * Ownership: *out is a new tree for the caller (cxs_qnode_free).
 */
#ifndef CXS_SERVER_MEILI_H
#define CXS_SERVER_MEILI_H

#include <jansson.h>
#include <stddef.h>

#include "cxs_err.h"
#include "qnode.h"

/* Parses a filter (a JSON string, an array of strings and arrays of
 * strings, or null). On success *out is the tree, or NULL when the filter
 * is empty (no restriction). On failure *out is NULL and err says what is
 * wrong and where: CXS_ERR_INVALID for a filter that does not parse,
 * CXS_ERR_NOMEM when out of memory. */
CXS_MUST_CHECK cxs_status cxs_meili_filter(const json_t *filter,
                                           cxs_qnode **out, cxs_err *err);

#endif /* CXS_SERVER_MEILI_H */
