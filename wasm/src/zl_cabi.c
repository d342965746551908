/* zl_cabi.c — the canonical-ABI allocator the component model requires.
 * The host calls it to place list/string arguments and list results in our
 * memory; whoever receives such a block frees it with free() — except a block
 * that was lent (zl_cabi_lend), which stays its lender's. */
#include <stdlib.h>
#include <stddef.h>
#include "zl_cabi.h"

static void *lent;
static size_t lent_cap;

void zl_cabi_lend(void *buf, size_t cap) {
    lent = buf;
    lent_cap = cap;
}

void zl_cabi_unlend(void) {
    lent = NULL;
    lent_cap = 0;
}

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    /* malloc aligns to 16, more than any canonical-ABI type needs */
    if (new_size == 0) {
        free(old);
        return (void *)align; /* a non-null, never-dereferenced pointer for empty lists */
    }
    if (old == NULL && lent != NULL && new_size <= lent_cap) {
        void *p = lent;
        zl_cabi_unlend(); /* one block per lend */
        return p;
    }
    return realloc(old, new_size);
}
