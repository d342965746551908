// zl_guest.h — guests (see Guest in zl_env.h): creation, and what happens to
// a guest's SQEs when one of its fds stops being its own.
#pragma once

#include "zl_env.h"

Guest* zl_guest_create(ZlEnv* E);
// fd leaves G (close: untag = zl_fd_disown; releaseFd: zl_fd_release): 0
// once every prepared SQE of G's rings naming it became a NOP and untag moved
// its tag; -EBADF (not G's) or -EBUSY (nothing changed) while an SQE that
// names it was flushed but not consumed by the kernel yet.
int zl_guest_drop_fd(const Guest* G, int32_t fd, bool (*untag)(const Guest*, int32_t));
// Defines every export as a property of `target`, bound to G.
void zl_guest_define(napi_env env, Guest* G, napi_value target);
// The env is going away: closes the fds G still owns.
void zl_guest_teardown(Guest* G);
