/* zl_token.c — pack/unpack of user_data (layout in zl_token.h). */
#include "zl_token.h"
#include "zl_assert.h"

uint64_t zl_token_pack(zl_kind kind, uint32_t gen, int32_t fd) {
    ZL_ASSERT(kind > ZL_K_NONE && kind <= 0xFF);
    ZL_ASSERT(gen <= ZL_TOKEN_GEN_MASK);
    ZL_ASSERT(fd >= 0);
    uint64_t ud = ((uint64_t)kind << ZL_TOKEN_KIND_SHIFT) | ((uint64_t)gen << ZL_TOKEN_GEN_SHIFT) |
                  (uint64_t)(uint32_t)fd;
    /* Round trip: a token that does not unpack to what was packed would be
     * dispatched to the wrong handler or connection. */
    zl_token t = zl_token_unpack(ud);
    ZL_ASSERT(t.kind == (uint32_t)kind && t.gen == gen && t.fd == fd);
    return ud;
}

zl_token zl_token_unpack(uint64_t ud) {
    zl_token t;
    t.kind = (uint32_t)(ud >> ZL_TOKEN_KIND_SHIFT);
    t.gen = (uint32_t)(ud >> ZL_TOKEN_GEN_SHIFT) & ZL_TOKEN_GEN_MASK;
    t.fd = (int32_t)(uint32_t)ud;
    return t;
}
