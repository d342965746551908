/* Placeholder exports so the pipeline builds before the core lands; the core replaces this file. */
#include "zl_host.h"
#define EX(n) __attribute__((export_name("zergling:reactor/reactor#" n)))
static uint32_t evbuf[16]; static zl_list ret; static uint8_t st[160];
EX("create") int32_t x_create(uint32_t a,uint32_t b,int32_t c,uint32_t d,uint32_t e,uint32_t f,uint32_t g,uint32_t h,int32_t i,uint32_t j){ (void)a;(void)b;(void)c;(void)d;(void)e;(void)f;(void)g;(void)h;(void)i;(void)j; return zl_create_ring(8);}
EX("destroy") int32_t x_destroy(void){return 0;}
EX("listen") int32_t x_listen(const char*h,size_t l,uint32_t p,uint32_t f,int32_t b){zl_sock_addr a=zl_inet_pton(2,h,l);(void)p;(void)f;(void)b;return a.ret;}
EX("stop-accepting") int32_t x_sa(void){return 0;}
EX("adopt") int32_t x_adopt(int32_t fd){return fd;}
EX("ring") int32_t x_ring(void){return 0;}
EX("recv-slab") int32_t x_rs(void){return 0;}
EX("tick") zl_list* x_tick(void){ret.ptr=evbuf;ret.len=4;return &ret;}
EX("submit") int32_t x_submit(void){return 0;}
EX("write") int32_t x_write(uint32_t a,uint32_t b,uint32_t c,uint32_t d){return (int32_t)(a+b+c+d);}
EX("shutdown") int32_t x_sh(uint32_t c){return (int32_t)c;}
EX("close") int32_t x_close(uint32_t c,int32_t ab){return (int32_t)c+ab;}
EX("release") int32_t x_rel(uint32_t b){return (int32_t)b;}
EX("stats") void* x_stats(void){return st;}
