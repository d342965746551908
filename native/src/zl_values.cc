// zl_values.cc — JS value conversions and the record shapes jco expects
// (u64/s64 = bigint, records = objects with camelCase fields).
#include "zl_env.h"

napi_value zl_type_error(napi_env env, const char* what) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return nullptr;
}

bool zl_u64(napi_env env, napi_value v, uint64_t* out) {
    bool lossless;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok) return true;
    int64_t n;  // a plain number is accepted too (JS callers), wrapped to 64 bits
    if (napi_get_value_int64(env, v, &n) == napi_ok) {
        *out = static_cast<uint64_t>(n);
        return true;
    }
    zl_type_error(env, "expected a bigint (u64)");
    return false;
}

bool zl_i64(napi_env env, napi_value v, int64_t* out) {
    bool lossless;
    if (napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok) return true;
    if (napi_get_value_int64(env, v, out) == napi_ok) return true;
    zl_type_error(env, "expected a bigint (s64)");
    return false;
}

// napi_get_named_property measured faster here than a cached key (which needs
// two extra Node-API calls to fetch).
static bool field(napi_env env, napi_value obj, const char* name, napi_value* v) {
    if (napi_get_named_property(env, obj, name, v) == napi_ok) return true;
    zl_type_error(env, "expected a record object");
    return false;
}

bool zl_field_u32(napi_env env, napi_value obj, const char* name, uint32_t* out) {
    napi_value v;
    return field(env, obj, name, &v) && zl_u32(env, v, out);
}
bool zl_field_u64(napi_env env, napi_value obj, const char* name, uint64_t* out) {
    napi_value v;
    return field(env, obj, name, &v) && zl_u64(env, v, out);
}
bool zl_field_i64(napi_env env, napi_value obj, const char* name, int64_t* out) {
    napi_value v;
    return field(env, obj, name, &v) && zl_i64(env, v, out);
}

static void set(napi_env env, napi_value obj, const char* name, napi_value v) {
    napi_set_named_property(env, obj, name, v);
}
static napi_value u32v(napi_env env, uint32_t x) {
    napi_value v;
    napi_create_uint32(env, x, &v);
    return v;
}
static napi_value u64v(napi_env env, uint64_t x) {
    napi_value v;
    napi_create_bigint_uint64(env, x, &v);
    return v;
}

// {ret, cqe: {userData, res, flags}}
napi_value zl_cqe_result(napi_env env, int32_t ret, uint64_t user_data, int32_t res,
                         uint32_t flags) {
    napi_value o, c;
    napi_create_object(env, &o);
    napi_create_object(env, &c);
    set(env, c, "userData", u64v(env, user_data));
    set(env, c, "res", zl_int(env, res));
    set(env, c, "flags", u32v(env, flags));
    set(env, o, "ret", zl_int(env, ret));
    set(env, o, "cqe", c);
    return o;
}

// {ret, family, port, hi, lo}
napi_value zl_sock_addr(napi_env env, int32_t ret, uint32_t family, uint32_t port,
                        uint64_t hi, uint64_t lo) {
    napi_value o;
    napi_create_object(env, &o);
    set(env, o, "ret", zl_int(env, ret));
    set(env, o, "family", u32v(env, family));
    set(env, o, "port", u32v(env, port));
    set(env, o, "hi", u64v(env, hi));
    set(env, o, "lo", u64v(env, lo));
    return o;
}
