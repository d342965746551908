// zl_wake.h — ring wake-ups: the ring's eventfd watched by libuv (Node) or by
// a waiter thread that calls JS through a thread-safe function (Bun, Deno).
#pragma once

#include <node_api.h>

struct Ring;

// Stops the ring's watch, if any; afterwards the eventfd may be closed.
void zl_unwatch_ring(napi_env env, Ring* r);
