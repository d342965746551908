// zl_addon.cc — module registration. Every export is a plain Node-API
// function whose `data` is its Guest, so a call costs one napi_get_cb_info
// and no allocation, and an exports object can be handed to the component as
// its `host` imports unchanged. The module's exports are the env's first
// guest; newGuest() makes more.
#include "zl_exports.h"
#include "zl_guest.h"
#include "zl_ring.h"
#include "zl_slab.h"

namespace {
struct Export {
    const char* name;
    napi_callback fn;
};

const Export kExports[] = {
    // interface host (wasm/wit/host.wit), jco's camelCase names
    {"createRing", zl_create_ring},
    {"createRingEx", zl_create_ring_ex},
    {"destroyRing", zl_destroy_ring},
    {"getRingFlags", zl_get_ring_flags},
    {"getSqe", zl_get_sqe},
    {"submit", zl_submit},
    {"submitAndWait", zl_submit_and_wait},
    {"submitAndWaitTimeout", zl_submit_and_wait_timeout},
    {"enter", zl_enter},
    {"waitCqe", zl_wait_cqe},
    {"waitCqeTimeout", zl_wait_cqe_timeout},
    {"waitCqes", zl_wait_cqes},
    {"peekBatchCqe", zl_peek_batch_cqe},
    {"cqeSeen", zl_cqe_seen},
    {"cqAdvance", zl_cq_advance},
    {"cqReady", zl_cq_ready},
    {"sqReady", zl_sq_ready},
    {"prepMultishotAccept", zl_prep_multishot_accept},
    {"prepRecvMultishotSelect", zl_prep_recv_multishot_select},
    {"prepRecvSelect", zl_prep_recv_select},
    {"prepSend", zl_prep_send},
    {"prepSendmsg", zl_prep_sendmsg},
    {"prepCancel64", zl_prep_cancel64},
    {"sqeSetData64", zl_sqe_set_data64},
    {"cqeGetData64", zl_cqe_get_data64},
    {"queueMultishotAccept", zl_queue_multishot_accept},
    {"queueRecvMultishotSelect", zl_queue_recv_multishot_select},
    {"queueRecvSelect", zl_queue_recv_select},
    {"queueSend", zl_queue_send},
    {"queueSendmsg", zl_queue_sendmsg},
    {"queueCancel64", zl_queue_cancel64},
    {"setupBufRing", zl_setup_buf_ring},
    {"freeBufRing", zl_free_buf_ring},
    {"bufRingAdd", zl_buf_ring_add},
    {"bufRingAdvance", zl_buf_ring_advance},
    {"cqeHasBuffer", zl_cqe_has_buffer},
    {"cqeBufferId", zl_cqe_buffer_id},
    {"slabCreate", zl_slab_create},
    {"slabDestroy", zl_slab_destroy},
    {"socket", zl_socket},
    {"bind", zl_bind},
    {"bind6", zl_bind6},
    {"listen", zl_listen},
    {"setsockopt", zl_setsockopt},
    {"close", zl_close},
    {"fcntl", zl_fcntl},
    {"inetPton", zl_inet_pton},
    {"shutdown", zl_shutdown},
    {"getsockname", zl_getsockname},
    {"getpeername", zl_getpeername},
    {"pinCurrentThreadToCpu", zl_pin_current_thread_to_cpu},
    // Backend extras (bridge/native.ts)
    {"slabBuffer", zl_slab_buffer},
    {"pinSlab", zl_pin_slab},
    {"unpinSlab", zl_unpin_slab},
    {"watch", zl_watch},
    {"unwatch", zl_unwatch},
    {"quiesce", zl_quiesce},
    {"ownedFds", zl_owned_fds},
    {"allOwnedFds", zl_all_owned_fds},
    {"fdTags", zl_fd_tags},
    {"ringInfo", zl_ring_info},
    {"newGuest", zl_new_guest},
    {"releaseFd", zl_release_fd},
    {"claimFd", zl_claim_fd},
};

// The env is going away (worker exit): release every ring and slab while
// Node-API is still usable. Registered first, so it runs after the per-watch
// hooks (cleanup hooks run in reverse order).
void env_cleanup(void* arg) {
    ZlEnv* E = static_cast<ZlEnv*>(arg);
    napi_env env = E->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    for (Ring* r : E->rings.items) {
        if (r == nullptr) continue;
        Guest* owner = nullptr;
        for (Guest* G : E->guests)
            if (G->id == r->guest) owner = G;
        ZL_ASSERT(owner != nullptr);  // rings are made by this env's guests
        zl_ring_teardown(env, owner, r);
    }
    zl_slabs_teardown(env, E);
    for (Guest* G : E->guests) zl_guest_teardown(G);
    if (E->scratch != nullptr) napi_delete_reference(env, E->scratch);
    napi_delete_reference(env, E->empty_u8);
    napi_close_handle_scope(env, scope);
}

}  // namespace

void zl_guest_define(napi_env env, Guest* G, napi_value target) {
    for (const Export& x : kExports) {
        napi_value fn;
        napi_create_function(env, x.name, NAPI_AUTO_LENGTH, x.fn, G, &fn);
        napi_set_named_property(env, target, x.name, fn);
    }
}

namespace {
void env_free(napi_env, void* data, void*) {
    ZlEnv* E = static_cast<ZlEnv*>(data);
    for (Guest* G : E->guests) delete G;
    delete E;
}

napi_value init(napi_env env, napi_value exports) {
    ZlEnv* E = new ZlEnv();
    E->env = env;
    napi_value ab, u8;
    void* data;
    napi_create_arraybuffer(env, 0, &data, &ab);
    napi_create_typedarray(env, napi_uint8_array, 0, ab, 0, &u8);
    napi_create_reference(env, u8, 1, &E->empty_u8);

    zl_guest_define(env, zl_guest_create(E), exports);
    napi_set_instance_data(env, E, env_free, nullptr);
    napi_add_env_cleanup_hook(env, env_cleanup, E);
    return exports;
}
}  // namespace

NAPI_MODULE_INIT() { return init(env, exports); }
