// zl_affinity.cc — pin-current-thread-to-cpu: sched_setaffinity for the
// calling (JS) thread. Best effort: -errno, never fatal.
#include <sched.h>

#include "zl_env.h"
#include "zl_exports.h"

napi_value zl_pin_current_thread_to_cpu(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_I32(0, cpu);
    if (cpu < 0 || cpu >= CPU_SETSIZE) return zl_err(env, EINVAL);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0) return zl_err(env, errno);
    return zl_int(env, 0);
}
