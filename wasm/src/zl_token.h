/* zl_token.h — the 64-bit user_data of every SQE the core prepares.
 *
 *   63        56 55                    32 31                               0
 *  +------------+-------------------------+----------------------------------+
 *  | kind (8)   | generation of the fd(24)| fd (32, as u32)                  |
 *  +------------+-------------------------+----------------------------------+
 *
 * zerg packs `kind << 32 | fd`; the generation in between lets dispatch tell a
 * late CQE of a closed connection from a CQE of the connection that now owns
 * the same fd number (the kernel hands out the lowest free fd, so reuse is the
 * normal case, not the exception). Generations are per fd (zl_conn.c) and wrap
 * at 2^24. Kind 0 never appears in a token: a CQE with user_data 0 is a NOP.
 */
#ifndef ZL_TOKEN_H
#define ZL_TOKEN_H

#include <stdint.h>

typedef enum zl_kind {
    ZL_K_NONE = 0,
    ZL_K_ACCEPT = 1, /* zerg's values for the first four */
    ZL_K_RECV = 2,
    ZL_K_SEND = 3,
    ZL_K_CANCEL = 4,
} zl_kind;

#define ZL_TOKEN_KIND_SHIFT 56
#define ZL_TOKEN_GEN_SHIFT 32
#define ZL_TOKEN_GEN_MASK 0xFFFFFFu

typedef struct zl_token {
    uint32_t kind;
    uint32_t gen;
    int32_t fd;
} zl_token;

uint64_t zl_token_pack(zl_kind kind, uint32_t gen, int32_t fd);
zl_token zl_token_unpack(uint64_t user_data);

#endif
