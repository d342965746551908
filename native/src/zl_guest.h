// zl_guest.h — guests (see Guest in zl_env.h): creation, and what happens to
// a guest's SQEs when one of its fds stops being its own.
#pragma once

#include "zl_env.h"

Guest* zl_guest_create(ZlEnv* E);
// fd is about to leave G (close or release): 0 after every prepared SQE of
// G's rings naming it became a NOP, or -EBUSY (nothing changed) while one
// that names it was flushed but not consumed by the kernel yet.
int zl_guest_forget_fd(const Guest* G, int32_t fd);
// Defines every export as a property of `target`, bound to G.
void zl_guest_define(napi_env env, Guest* G, napi_value target);
// The env is going away: closes the fds G still owns.
void zl_guest_teardown(Guest* G);
