// zl_guest.cc — guests: newGuest() (a fresh set of host functions for one
// Wasm instance) and the explicit fd hand-off between guests, releaseFd /
// claimFd (the cluster's acceptor gives an accepted fd to a worker's guest).
// Both are Backend extras: no guest can call them.
#include <unistd.h>

#include "zl_exports.h"
#include "zl_fd.h"
#include "zl_guest.h"
#include "zl_ring.h"

Guest* zl_guest_create(ZlEnv* E) {
    Guest* G = new Guest();
    G->id = zl_guest_new_id();
    G->E = E;
    E->guests.push_back(G);
    return G;
}

namespace {
// 0 after every prepared SQE of G's rings naming fd became a NOP, or -EBUSY.
int forget_fd(const Guest* G, int32_t fd) {
    ZlEnv* E = G->E;
    // All rings first without changing anything, so that -EBUSY leaves every
    // prepared SQE as it was.
    for (bool dry : {true, false}) {
        for (Ring* r : E->rings.items) {
            if (r == nullptr || r->guest != G->id) continue;
            int busy = zl_ring_forget_fd(r, fd, dry);
            ZL_ASSERT(!busy || dry);  // the dry run saw the same SQ
            if (busy) return busy;
        }
    }
    return 0;
}
}  // namespace

int zl_guest_drop_fd(const Guest* G, int32_t fd, bool (*untag)(const Guest*, int32_t)) {
    if (!zl_fd_owned(G, fd)) return -EBADF;
    int busy = forget_fd(G, fd);
    if (busy) return busy;
    bool moved = untag(G, fd);
    ZL_ASSERT(moved);  // owned just above; only G's thread moves G's tags
    return 0;
}

void zl_guest_teardown(Guest* G) { zl_fd_close_all(G); }

// newGuest(): an object with every export, bound to a new guest.
napi_value zl_new_guest(napi_env env, napi_callback_info info) {
    ZL_ARGS(0);
    napi_value o;
    napi_create_object(env, &o);
    zl_guest_define(env, zl_guest_create(E), o);
    return o;
}

// releaseFd(fd): this guest's fd goes into transit (no guest owns it) for
// another guest to claimFd; 0, -EBADF (not this guest's) or -EBUSY (an SQE
// flushed to the kernel still names it).
napi_value zl_release_fd(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_I32(0, fd);
    return zl_int(env, zl_guest_drop_fd(G, fd, zl_fd_release));
}

// claimFd(fd): an fd in transit becomes this guest's; 0 or -EBADF.
napi_value zl_claim_fd(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_I32(0, fd);
    return zl_int(env, zl_fd_claim(G, fd) ? 0 : -EBADF);
}
