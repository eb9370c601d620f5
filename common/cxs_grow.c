/*
 * cxs_grow.c - see cxs_grow.h.
 *
 * The array pointer is read and written through memcpy, not through a
 * void **: a T * is not a void * object, and storing to one through the
 * other breaks C's aliasing rules.
 */
#include "cxs_grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

cxs_status cxs_grow(void *arrp, size_t *cap, size_t need, size_t elem_size) {
    if (need <= *cap)
        return CXS_OK;
    if (elem_size == 0 || need > SIZE_MAX / elem_size)
        return CXS_ERR_TOO_LARGE;
    size_t c = *cap ? *cap : CXS_GROW_MIN;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    if (c > SIZE_MAX / elem_size) /* doubled past the limit: just enough */
        c = need;
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = realloc(old, c * elem_size);
    if (!p)
        return CXS_ERR_NOMEM;
    memcpy(arrp, &p, sizeof p);
    *cap = c;
    return CXS_OK;
}
