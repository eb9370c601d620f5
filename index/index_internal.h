/*
 * index_internal.h - what the index's own files share (index.c writes,
 * search.c searches, browse.c reads posts and statistics). Not for use
 * outside index/.
 */
#ifndef CXS_INDEX_INTERNAL_H
#define CXS_INDEX_INTERNAL_H

#include "cxs_buf.h"
#include "index.h"
#include "xapian_shim.h"

struct cxs_index {
    cxs_index_config cfg;
    cxs_analyzer *an;
    cxs_synonyms *syn;
    cxs_xdb *rd;
    cxs_xwdb *wr;
    char *path;     /* writer: its database */
    char **paths;   /* reader: its shards */
    size_t npaths;
    size_t pending; /* puts since the last commit */
    cxs_buf term;   /* scratch for prefix + term */
    cxs_buf data;   /* scratch for stored JSON */
};

/* Parses a stored post (document data) into *p. */
cxs_status cxs_index_decode_post(const char *data, size_t len, cxs_post *p,
                                 cxs_err *err);

/* Finds a post by id: its docid and (when p is not NULL) the post. */
cxs_status cxs_index_get_docid(cxs_index *ix, const char *id, unsigned *docid,
                               cxs_post *p, cxs_err *err);

#endif /* CXS_INDEX_INTERNAL_H */
