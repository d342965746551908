// zl_fd.h — which guest owns which fd: those its `socket` returned, those its
// accept CQEs delivered, and those handed to it by claimFd. One owner tag per
// fd number, process-wide and lock-free, so that ownership can move between
// threads (the cluster hand-off) without a lock, and so that one fd is never
// owned by two guests.
#pragma once

#include <stdint.h>

struct Guest;

// The tag of an fd released by one guest and not yet claimed by another.
constexpr uint32_t ZL_FD_TRANSIT = 0xffffffffu;

uint32_t zl_guest_new_id();

bool zl_fd_owned(const Guest* G, int32_t fd);
// Records a fresh fd (the kernel just returned it) as G's; false if it cannot
// be tracked (fd out of range): the caller closes it.
bool zl_fd_own(const Guest* G, int32_t fd);
// Forgets fd; true if it was G's.
bool zl_fd_disown(const Guest* G, int32_t fd);
// G's fd -> in transit; true if it was G's.
bool zl_fd_release(const Guest* G, int32_t fd);
// In transit -> G's; true if it was in transit.
bool zl_fd_claim(const Guest* G, int32_t fd);
// Fds G owns (a scan: for tests and stats, not the hot path).
int64_t zl_fd_count(const Guest* G);
// Fds any guest of the process owns or that are in transit (diagnostics).
int64_t zl_fd_count_all();
// Calls visit(fd, tag) for every tagged fd (diagnostics: which fd a leak is).
void zl_fd_each(void (*visit)(int32_t fd, uint32_t tag, void* arg), void* arg);
// Closes and forgets every fd G still owns (its env is going away).
void zl_fd_close_all(const Guest* G);
