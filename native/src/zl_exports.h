// zl_exports.h — every function the addon exports. The first group is
// `interface host` of wasm/wit/host.wit under jco's camelCase names, usable
// as the component's imports as they are; the second is the Backend extras.
#pragma once

#include <node_api.h>

#define ZL_FN(name) napi_value name(napi_env env, napi_callback_info info)

// ring lifecycle (zl_ring.cc)
ZL_FN(zl_create_ring); ZL_FN(zl_create_ring_ex); ZL_FN(zl_destroy_ring); ZL_FN(zl_get_ring_flags);
// submission (zl_submit.cc)
ZL_FN(zl_get_sqe); ZL_FN(zl_submit); ZL_FN(zl_submit_and_wait); ZL_FN(zl_submit_and_wait_timeout);
ZL_FN(zl_enter); ZL_FN(zl_sq_ready);
// completion (zl_cqe.cc)
ZL_FN(zl_wait_cqe); ZL_FN(zl_wait_cqe_timeout); ZL_FN(zl_wait_cqes); ZL_FN(zl_peek_batch_cqe);
ZL_FN(zl_cqe_seen); ZL_FN(zl_cq_advance); ZL_FN(zl_cq_ready);
ZL_FN(zl_cqe_get_data64); ZL_FN(zl_cqe_has_buffer); ZL_FN(zl_cqe_buffer_id);
// SQE preparation (zl_sqe.cc)
ZL_FN(zl_prep_multishot_accept); ZL_FN(zl_prep_recv_multishot_select); ZL_FN(zl_prep_recv_select); ZL_FN(zl_prep_send);
ZL_FN(zl_prep_sendmsg); ZL_FN(zl_prep_cancel64); ZL_FN(zl_sqe_set_data64);
// fused queueing (zl_sqe.cc)
ZL_FN(zl_queue_multishot_accept); ZL_FN(zl_queue_recv_multishot_select); ZL_FN(zl_queue_recv_select);
ZL_FN(zl_queue_send); ZL_FN(zl_queue_sendmsg); ZL_FN(zl_queue_cancel64);
// buffer ring (zl_bufring.cc)
ZL_FN(zl_setup_buf_ring); ZL_FN(zl_free_buf_ring); ZL_FN(zl_buf_ring_add); ZL_FN(zl_buf_ring_advance);
// slabs (zl_slab.cc)
ZL_FN(zl_slab_create); ZL_FN(zl_slab_destroy);
// sockets (zl_socket.cc)
ZL_FN(zl_socket); ZL_FN(zl_bind); ZL_FN(zl_bind6); ZL_FN(zl_listen); ZL_FN(zl_setsockopt);
ZL_FN(zl_close); ZL_FN(zl_fcntl); ZL_FN(zl_inet_pton); ZL_FN(zl_shutdown); ZL_FN(zl_getsockname);
ZL_FN(zl_getpeername);
// affinity (zl_affinity.cc)
ZL_FN(zl_pin_current_thread_to_cpu);

// Backend extras, not WIT imports
ZL_FN(zl_slab_buffer); ZL_FN(zl_pin_slab); ZL_FN(zl_unpin_slab);  // zl_slab.cc
ZL_FN(zl_watch); ZL_FN(zl_unwatch); ZL_FN(zl_quiesce);                                // zl_wake.cc
ZL_FN(zl_owned_fds); ZL_FN(zl_all_owned_fds); ZL_FN(zl_fd_tags);                      // zl_socket.cc
ZL_FN(zl_ring_info);                                               // zl_submit.cc (tests)
ZL_FN(zl_new_guest); ZL_FN(zl_release_fd); ZL_FN(zl_claim_fd);      // zl_guest.cc
