/* zl_cabi.c — the canonical-ABI allocator the component model requires.
 * The host calls it to place list/string arguments and list results in our
 * memory; whoever receives such a block frees it with free(). */
#include <stdlib.h>
#include <stddef.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    (void)align; /* malloc aligns to 16, more than any canonical-ABI type needs */
    if (new_size == 0) {
        free(old);
        return (void *)align; /* a non-null, never-dereferenced pointer for empty lists */
    }
    return realloc(old, new_size);
}
