// zl_wake.cc — watch(ring, cb, threaded) / unwatch(ring, id) / quiesce(ring).
//   Node:      uv_poll on the eventfd in the env's own libuv loop, level-
//              triggered: the callback runs on every loop iteration while the
//              eventfd has a count. Nothing reads it until the engine is about
//              to sleep and calls quiesce(): a busy reactor pays libuv's poll
//              and its own enter per turn, no read per wake-up (the kernel
//              signals the eventfd for its own CQE postings too, so a read per
//              wake-up mostly consumed the reactor's own signal).
//   threaded:  a waiter thread polls the eventfd, drains it and wakes JS
//              through a thread-safe function (Bun has no uv_poll, Deno stalls
//              on it); quiesce() has nothing left to read there.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <thread>

#include "zl_exports.h"
#include "zl_ring.h"
#include "zl_wake.h"

struct Watch {
    napi_env env;
    Ring* ring;
    int evfd;
    bool threaded;
    // uv mode
    uv_poll_t poll;
    napi_ref cb = nullptr;
    napi_async_context actx = nullptr;
    bool in_cb = false, dead = false;
    // threaded mode
    napi_threadsafe_function tsfn = nullptr;
    std::thread waiter;
    int stopfd = -1;
    std::atomic<bool> pending{false}, stopped{false};
    bool unwatched = false, finalized = false;
};

namespace {
// One read: a counting eventfd's read returns the whole count and resets it
// to 0, so a second read could only fail with EAGAIN (a wasted syscall per
// wake-up). Non-blocking, so an empty eventfd (a spurious poll) costs one read.
void drain(int fd) {
    uint64_t v;
    (void)!read(fd, &v, sizeof v);
}

// An exception thrown by the callback is the process's, as from any event.
void rethrow(napi_env env, napi_status st) {
    if (st != napi_pending_exception) return;
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
}

void free_js(Watch* w) {
    napi_delete_reference(w->env, w->cb);
    napi_async_destroy(w->env, w->actx);
    w->cb = nullptr;
}

void on_poll(uv_poll_t* h, int status, int) {
    Watch* w = static_cast<Watch*>(h->data);
    if (status < 0) drain(w->evfd);  // never spin on a poll error
    if (status < 0 || w->dead) return;
    napi_env env = w->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value cb, recv, result;
    napi_get_reference_value(env, w->cb, &cb);
    napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
    w->in_cb = true;
    napi_status st = napi_make_callback(env, w->actx, recv, cb, 0, nullptr, &result);
    w->in_cb = false;
    if (w->dead) free_js(w);  // unwatched from inside the callback
    rethrow(env, st);
    napi_close_handle_scope(env, scope);
}

void waiter_main(Watch* w) {
    struct pollfd fds[2] = {{w->evfd, POLLIN, 0}, {w->stopfd, POLLIN, 0}};
    while (!w->stopped.load()) {
        int n = poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents) break;
        if (fds[0].revents & POLLIN) {
            drain(w->evfd);
            // One wake-up in flight at a time: JS reaps everything it finds.
            if (!w->pending.exchange(true) &&
                napi_call_threadsafe_function(w->tsfn, nullptr, napi_tsfn_nonblocking) != napi_ok)
                break;
        }
    }
}

void call_js(napi_env env, napi_value js_cb, void* context, void*) {
    Watch* w = static_cast<Watch*>(context);
    if (env == nullptr || w->stopped.load()) return;
    w->pending.store(false);
    napi_value undef, result;
    napi_get_undefined(env, &undef);
    rethrow(env, napi_call_function(env, undef, js_cb, 0, nullptr, &result));
}

void tsfn_finalize(napi_env, void* data, void*) {
    Watch* w = static_cast<Watch*>(data);
    w->finalized = true;
    if (w->unwatched) delete w;
}

void stop(Watch* w) {
    if (w->threaded) {
        w->stopped.store(true);
        uint64_t one = 1;
        (void)!write(w->stopfd, &one, sizeof one);
        w->waiter.join();
        close(w->stopfd);
        w->unwatched = true;
        bool finalized = w->finalized;
        napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
        if (finalized) delete w;
    } else {
        uv_poll_stop(&w->poll);
        w->dead = true;
        if (!w->in_cb) free_js(w);
        uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
                 [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    }
}

// Runs before the runtime tears down the thread-safe function (cleanup hooks
// run in reverse order of registration), so the waiter never calls a dead one.
void env_hook(void* arg) {
    Watch* w = static_cast<Watch*>(arg);
    napi_env env = w->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    zl_unwatch_ring(env, w->ring);
    napi_close_handle_scope(env, scope);
}

int32_t start(napi_env env, ZlEnv* E, Ring* r, napi_value cb, bool threaded) {
    Watch* w = new Watch();
    w->env = env;
    w->ring = r;
    w->evfd = r->evfd;
    w->threaded = threaded;
    napi_value name;
    napi_create_string_utf8(env, "zergling:ring-watch", NAPI_AUTO_LENGTH, &name);
    if (threaded) {
        w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->stopfd < 0) {
            int e = errno;
            delete w;
            return -e;
        }
        if (napi_create_threadsafe_function(env, cb, nullptr, name, 0, 1, w, tsfn_finalize, w, call_js,
                                            &w->tsfn) != napi_ok) {
            close(w->stopfd);
            delete w;
            return -ENOMEM;
        }
        w->waiter = std::thread(waiter_main, w);
    } else {
        uv_loop_t* loop = nullptr;
        if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
            delete w;
            return -ENOSYS;
        }
        w->poll.data = w;
        int rc = uv_poll_init(loop, &w->poll, w->evfd);
        if (rc != 0) {
            delete w;
            return rc;
        }
        rc = uv_poll_start(&w->poll, UV_READABLE, on_poll);
        if (rc != 0) {
            uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
                     [](uv_handle_t* hd) { delete static_cast<Watch*>(hd->data); });
            return rc;
        }
        napi_value resource;
        napi_create_object(env, &resource);
        napi_create_reference(env, cb, 1, &w->cb);
        napi_async_init(env, resource, name, &w->actx);
    }
    napi_add_env_cleanup_hook(env, env_hook, w);
    r->watch = w;
    E->watch_serial = E->watch_serial % 0x7fffffffu + 1;
    r->watch_id = E->watch_serial;
    return static_cast<int32_t>(r->watch_id);
}
}  // namespace

void zl_unwatch_ring(napi_env env, Ring* r) {
    Watch* w = r->watch;
    if (w == nullptr) return;
    r->watch = nullptr;
    r->watch_id = 0;
    napi_remove_env_cleanup_hook(env, env_hook, w);
    stop(w);
}

// watch(ring, cb, threaded): a watch id (> 0), -EBADF, -EBUSY (already
// watched) or another -errno.
napi_value zl_watch(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_U32(0, h);
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t != napi_function) return zl_type_error(env, "watch expects a function");
    bool threaded = false;
    napi_get_value_bool(env, argv[2], &threaded);
    Ring* r = zl_ring(G, h);
    if (r == nullptr) return zl_err(env, EBADF);
    if (r->watch != nullptr) return zl_err(env, EBUSY);
    return zl_int(env, start(env, E, r, argv[1], threaded));
}

// quiesce(ring): the caller found nothing to do and is about to sleep: read
// the eventfd's count (one read) so that the next wake-up is a new signal.
// The caller must then reap once more (a completion may have signalled just
// before the read). 1 when there was a count, 0 when not, -EBADF.
napi_value zl_quiesce(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_U32(0, h);
    Ring* r = zl_ring(G, h);
    if (r == nullptr || r->evfd < 0) return zl_err(env, EBADF);
    if (r->watch != nullptr && r->watch->threaded) return zl_int(env, 0);  // the waiter drains
    uint64_t v;
    return zl_int(env, read(r->evfd, &v, sizeof v) == static_cast<ssize_t>(sizeof v) ? 1 : 0);
}

// unwatch(ring, id): 0, or -EBADF when that watch is already gone.
napi_value zl_unwatch(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_U32(0, h);
    ZL_U32(1, id);
    Ring* r = zl_ring(G, h);
    if (r == nullptr || r->watch == nullptr || r->watch_id != id) return zl_err(env, EBADF);
    zl_unwatch_ring(env, r);
    return zl_int(env, 0);
}
