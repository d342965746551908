// zl_fd.h — the set of fds the guest owns: those `socket` returned and those
// accept CQEs delivered. Process-global and lock-free, because an acceptor
// thread's ring accepts fds that reactor threads then use.
#pragma once

#include <stdint.h>

bool zl_fd_owned(int32_t fd);
// Marks fd owned; false if it cannot be tracked (fd out of range).
bool zl_fd_own(int32_t fd);
// Forgets fd; true if it was owned.
bool zl_fd_disown(int32_t fd);
int64_t zl_fd_count();
