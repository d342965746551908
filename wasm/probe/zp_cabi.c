/* zp_cabi.c — the canonical-ABI allocator of the probe component (a separate
 * link from the core, so it needs its own copy; same policy as wasm/src/zl_cabi.c).
 * jco calls it to place string/list arguments and list results in our memory;
 * whoever receives such a block frees it — only when its length is > 0, since
 * an empty block is the non-null dummy below, not a malloc'd pointer. */
#include <stdlib.h>
#include <stddef.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) {
        free(old);
        return (void *)align; /* non-null, never dereferenced */
    }
    return realloc(old, new_size); /* malloc aligns to 16: enough for every canonical type */
}
