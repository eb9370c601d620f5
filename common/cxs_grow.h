/*
 * cxs_grow.h - growing an array, the one way: capacity doubles, and the
 * byte size is checked for overflow before realloc sees it.
 *
 * Facts that shaped it: the realloc-doubling idiom was written by hand in
 * about twenty places, none checking that cap * elem_size fits a size_t;
 * on an overflow realloc gets a small size and the next write runs past
 * it. One helper makes the check impossible to forget.
 *
 * Use the macro, which takes the element size from the array's own type:
 *     if (CXS_GROW(v->items, v->cap, v->n + 1) != CXS_OK)
 *         return CXS_ERR_NOMEM;
 *     v->items[v->n++] = x;
 *
 * Memory: the array is realloc'ed in place and stays the caller's (free
 * it with free()); on failure it is left as it was (content and cap).
 * Thread-safety: none needed, no state. Errors: CXS_ERR_TOO_LARGE when
 * need * elem_size does not fit a size_t, CXS_ERR_NOMEM when realloc
 * fails.
 */
#ifndef CXS_GROW_H
#define CXS_GROW_H

#include <stddef.h>

#include "cxs_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The capacity of a grown empty array, in elements. */
#define CXS_GROW_MIN 16

/* Makes room for need elements of elem_size bytes in the array *arrp
 * points to (arrp is the address of the array pointer, any element type)
 * whose capacity is *cap elements: nothing happens when need <= *cap;
 * otherwise the capacity doubles (from CXS_GROW_MIN) until it holds need,
 * and *cap is updated. */
CXS_MUST_CHECK cxs_status cxs_grow(void *arrp, size_t *cap, size_t need,
                                   size_t elem_size);

/* Type-safe form: arr is the array pointer (an lvalue), cap its size_t
 * capacity in elements. */
#define CXS_GROW(arr, cap, need) cxs_grow(&(arr), &(cap), (need), sizeof *(arr))

#ifdef __cplusplus
}
#endif

#endif /* CXS_GROW_H */
