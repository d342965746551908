// zl_socket.cc — socket syscalls on fds the guest owns: socket, bind, bind6,
// listen, setsockopt, close, fcntl, shutdown, getsockname, getpeername,
// inet-pton; and ownedFds() for the Backend. Least privilege: TCP sockets
// only, close-on-exec always, no fcntl that changes more than O_NONBLOCK.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "zl_env.h"
#include "zl_exports.h"
#include "zl_fd.h"
#include "zl_guest.h"

namespace {
inline int32_t sys(int r) { return r < 0 ? -errno : r; }

uint64_t be64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}
void put_be64(uint8_t* p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

// bind and bind6 once their address is read: fd must be G's and the port 16
// bits; `*sa_port` is that port's field in `*sa`. 0 or -errno.
template <class SockAddr>
int bind_port(const Guest* G, int32_t fd, SockAddr* sa, in_port_t* sa_port, uint32_t port) {
    if (!zl_fd_owned(G, fd)) return -EBADF;
    if (port > 0xffff) return -EINVAL;
    *sa_port = htons(static_cast<uint16_t>(port));
    return sys(bind(fd, reinterpret_cast<struct sockaddr*>(sa), sizeof *sa));
}

napi_value addr_result(napi_env env, int ret, const struct sockaddr_storage* ss) {
    if (ret < 0) return zl_sock_addr(env, ret, 0, 0, 0, 0);
    if (ss->ss_family == AF_INET) {
        auto* a = reinterpret_cast<const struct sockaddr_in*>(ss);
        return zl_sock_addr(env, 0, AF_INET, ntohs(a->sin_port), 0, ntohl(a->sin_addr.s_addr));
    }
    if (ss->ss_family == AF_INET6) {
        auto* a = reinterpret_cast<const struct sockaddr_in6*>(ss);
        const uint8_t* b = a->sin6_addr.s6_addr;
        return zl_sock_addr(env, 0, AF_INET6, ntohs(a->sin6_port), be64(b), be64(b + 8));
    }
    return zl_sock_addr(env, 0, ss->ss_family, 0, 0, 0);
}

napi_value name_of(napi_env env, napi_callback_info info, bool peer) {
    ZL_ARGS(1);
    ZL_I32(0, fd);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (!zl_fd_owned(G, fd)) return addr_result(env, -EBADF, &ss);
    socklen_t len = sizeof ss;
    int r = peer ? getpeername(fd, reinterpret_cast<struct sockaddr*>(&ss), &len)
                 : getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len);
    return addr_result(env, sys(r), &ss);
}
}  // namespace

napi_value zl_socket(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_I32(0, domain);
    ZL_I32(1, type);
    ZL_I32(2, protocol);
    // TCP over IPv4/IPv6 is all a server needs; every other family (AF_UNIX,
    // AF_NETLINK, AF_PACKET, ...) and type (raw, datagram) is out of reach.
    if (domain != AF_INET && domain != AF_INET6) return zl_err(env, EAFNOSUPPORT);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM) return zl_err(env, EINVAL);
    if (protocol != 0 && protocol != IPPROTO_TCP) return zl_err(env, EPROTONOSUPPORT);
    // Close-on-exec always: the host runtime may spawn children.
    int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) return zl_err(env, errno);
    if (!zl_fd_own(G, fd)) {  // beyond the trackable range
        close(fd);
        return zl_err(env, EMFILE);
    }
    return zl_int(env, fd);
}

napi_value zl_bind(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_I32(0, fd);
    uint32_t port, addr;
    if (!zl_field_u32(env, argv[1], "port", &port) || !zl_field_u32(env, argv[1], "addr", &addr))
        return nullptr;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(addr);
    return zl_int(env, bind_port(G, fd, &sa, &sa.sin_port, port));
}

napi_value zl_bind6(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_I32(0, fd);
    uint32_t port, flowinfo, scope;
    uint64_t hi, lo;
    if (!zl_field_u32(env, argv[1], "port", &port) ||
        !zl_field_u32(env, argv[1], "flowinfo", &flowinfo) ||
        !zl_field_u64(env, argv[1], "hi", &hi) || !zl_field_u64(env, argv[1], "lo", &lo) ||
        !zl_field_u32(env, argv[1], "scopeId", &scope))
        return nullptr;
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_flowinfo = htonl(flowinfo);
    put_be64(sa.sin6_addr.s6_addr, hi);
    put_be64(sa.sin6_addr.s6_addr + 8, lo);
    sa.sin6_scope_id = scope;
    return zl_int(env, bind_port(G, fd, &sa, &sa.sin6_port, port));
}

namespace {
// listen(fd, backlog) and shutdown(fd, how): one of G's fds and an int.
napi_value fd_int_call(napi_env env, napi_callback_info info, int (*call)(int, int)) {
    ZL_ARGS(2);
    ZL_I32(0, fd);
    ZL_I32(1, arg);
    if (!zl_fd_owned(G, fd)) return zl_err(env, EBADF);
    return zl_int(env, sys(call(fd, arg)));
}
}  // namespace

napi_value zl_listen(napi_env env, napi_callback_info info) { return fd_int_call(env, info, listen); }

napi_value zl_setsockopt(napi_env env, napi_callback_info info) {
    ZL_ARGS(4);
    ZL_I32(0, fd);
    ZL_I32(1, level);
    ZL_I32(2, optname);
    ZL_I32(3, value);
    if (!zl_fd_owned(G, fd)) return zl_err(env, EBADF);
    // The kernel reads exactly sizeof(int) bytes: an option that wants a
    // struct (or a pointer inside one) fails with -EINVAL.
    return zl_int(env, sys(setsockopt(fd, level, optname, &value, sizeof value)));
}

napi_value zl_close(napi_env env, napi_callback_info info) {
    ZL_ARGS(1);
    ZL_I32(0, fd);
    // No SQE may name fd once it is closed and its number can be reused.
    int bad = zl_guest_drop_fd(G, fd, zl_fd_disown);
    if (bad) return zl_int(env, bad);
    return zl_int(env, sys(close(fd)));
}

napi_value zl_fcntl(napi_env env, napi_callback_info info) {
    ZL_ARGS(3);
    ZL_I32(0, fd);
    ZL_I32(1, cmd);
    ZL_I64(2, arg);
    if (!zl_fd_owned(G, fd)) return zl_err(env, EBADF);
    if (cmd != F_GETFD && cmd != F_SETFD && cmd != F_GETFL && cmd != F_SETFL) return zl_err(env, EINVAL);
    if (arg < INT32_MIN || arg > INT32_MAX) return zl_err(env, EINVAL);
    int a = static_cast<int>(arg);
    if (cmd == F_SETFD) {
        // Close-on-exec stays: a child of the runtime must not inherit it.
        if (a & ~FD_CLOEXEC) return zl_err(env, EINVAL);
        if (!(a & FD_CLOEXEC)) return zl_err(env, EPERM);
    }
    if (cmd == F_SETFL) {
        // The access mode is ignored by Linux (F_GETFL | O_NONBLOCK works);
        // O_ASYNC, O_APPEND, O_DIRECT, O_NOATIME are refused.
        if (a & ~(O_NONBLOCK | O_ACCMODE)) return zl_err(env, EINVAL);
        a &= O_NONBLOCK;
    }
    return zl_int(env, sys(fcntl(fd, cmd, a)));
}

napi_value zl_shutdown(napi_env env, napi_callback_info info) { return fd_int_call(env, info, shutdown); }

napi_value zl_getsockname(napi_env env, napi_callback_info info) { return name_of(env, info, false); }
napi_value zl_getpeername(napi_env env, napi_callback_info info) { return name_of(env, info, true); }

napi_value zl_inet_pton(napi_env env, napi_callback_info info) {
    ZL_ARGS(2);
    ZL_I32(0, af);
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[1], nullptr, 0, &len) != napi_ok)
        return zl_type_error(env, "expected a string");
    if (af != AF_INET && af != AF_INET6) return zl_sock_addr(env, -EAFNOSUPPORT, 0, 0, 0, 0);
    char buf[64];
    if (len >= sizeof buf) return zl_sock_addr(env, 0, static_cast<uint32_t>(af), 0, 0, 0);
    napi_get_value_string_utf8(env, argv[1], buf, sizeof buf, &len);
    uint8_t dst[16] = {0};
    // An embedded NUL would let "1.2.3.4\0junk" parse: not an address.
    int ok = strlen(buf) == len ? inet_pton(af, buf, dst) : 0;
    if (ok != 1) return zl_sock_addr(env, 0, static_cast<uint32_t>(af), 0, 0, 0);
    if (af == AF_INET) {
        uint32_t a = (uint32_t(dst[0]) << 24) | (uint32_t(dst[1]) << 16) | (uint32_t(dst[2]) << 8) | dst[3];
        return zl_sock_addr(env, 1, AF_INET, 0, 0, a);
    }
    return zl_sock_addr(env, 1, AF_INET6, 0, be64(dst), be64(dst + 8));
}

// allOwnedFds(): fds every guest of the process owns, plus those in transit.
napi_value zl_all_owned_fds(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value v;
    napi_create_int64(env, zl_fd_count_all(), &v);
    return v;
}

// fdTags(): [fd, owner, fd, owner, ...] for every tagged fd of the process;
// owner is a guest id, or -1 in transit. Diagnostics for leak reports.
napi_value zl_fd_tags(napi_env env, napi_callback_info info) {
    (void)info;
    struct Out { napi_env env; napi_value arr; uint32_t n; } out{env, nullptr, 0};
    napi_create_array(env, &out.arr);
    zl_fd_each([](int32_t fd, uint32_t tag, void* arg) {
        Out* o = static_cast<Out*>(arg);
        napi_value a, b;
        napi_create_int32(o->env, fd, &a);
        napi_create_int64(o->env, tag == ZL_FD_TRANSIT ? -1 : static_cast<int64_t>(tag), &b);
        napi_set_element(o->env, o->arr, o->n++, a);
        napi_set_element(o->env, o->arr, o->n++, b);
    }, &out);
    return out.arr;
}

// ownedFds(): fds this guest owns.
napi_value zl_owned_fds(napi_env env, napi_callback_info info) {
    ZL_ARGS(0);
    napi_value v;
    napi_create_int64(env, zl_fd_count(G), &v);
    return v;
}
