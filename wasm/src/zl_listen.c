/* zl_listen.c — the listening socket (family 4, 6, or 0 = dual-stack v6). */
#include "zl_accept.h"
#include "zl_conn.h"
#include "zl_reactor.h"

static int32_t fail(int32_t fd, int32_t err) {
    zl_close(fd);
    return err;
}

int32_t zl_listen_open(const char *host, size_t host_len, uint16_t port, uint32_t family, int32_t backlog) {
    if (zl_r.lfd >= 0)
        return -ZL_EALREADY; /* one listener per reactor */
    if (family != 0 && family != 4 && family != 6)
        return -ZL_EAFNOSUPPORT;
    int32_t af = family == 4 ? ZL_AF_INET : ZL_AF_INET6;
    zl_sock_addr a = {0};
    if (host_len > 0) {
        a = zl_inet_pton(af, host, host_len);
        if (a.ret < 0)
            return a.ret;
        if (a.ret != 1)
            return -ZL_EINVAL;
    } /* empty host: the wildcard address (all zero) */

    int32_t fd = zl_socket(af, ZL_SOCK_STREAM | ZL_SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    int32_t r = zl_setsockopt(fd, ZL_SOL_SOCKET, ZL_SO_REUSEADDR, 1);
    if (r < 0)
        return fail(fd, r);
    if (af == ZL_AF_INET6) {
        r = zl_setsockopt(fd, ZL_IPPROTO_IPV6, ZL_IPV6_V6ONLY, family == 6 ? 1 : 0);
        if (r < 0)
            return fail(fd, r);
        r = zl_bind6(fd, port, a.hi, a.lo, 0);
    } else {
        r = zl_bind(fd, port, (uint32_t)a.lo);
    }
    if (r < 0)
        return fail(fd, r);
    r = zl_listen(fd, backlog > 0 ? backlog : 511);
    if (r < 0)
        return fail(fd, r);
    zl_sock_addr bound = zl_getsockname(fd);
    if (bound.ret < 0)
        return fail(fd, bound.ret);
    int32_t gen = zl_fd_claim(fd, ZL_FD_LISTENER);
    if (gen < 0)
        return fail(fd, gen);
    zl_r.lfd = fd;
    zl_r.lgen = (uint32_t)gen;
    zl_r.lflags = ZL_L_WANT_ARM;
    return bound.port;
}
