#!/usr/bin/env bash
# bench/run.sh - `make bench`: every server on every workload it serves, in
# one invocation, with the C io_uring reference in the same run.
#
# Per run: start the server pinned to $SERVER_CPU (by PID, in its own process
# group), wait until its port accepts, check it (HTTP: one real request), run
# a discarded warmup load, then the measured load pinned to $CLIENT_CPU;
# read the server's peak RSS (VmHWM) and CPU time (/proc/PID/stat, whole
# process group), stop it by PID. One progress line per run on stderr.
#
# Output ($OUT, default bench/results/latest):
#   latest.jsonl      one JSON line per run (also skipped / failed servers)
#   latest.meta.json  machine, versions, settings, command
#   latest.md         tables per workload (report.mjs)
#   latest.svg        grouped bars of msgs/s ratio to the C reference (chart.mjs)
# plus a dated copy of the JSONL in bench/results/tmp/ (git-ignored).
#
# Usage: bench/run.sh [--list]
# Env:   DURATION (5 s) WARMUP (1 s) ROUNDS (3)  SERVERS WORKLOADS (default: all)
#        SERVER_CPU (1) CLIENT_CPU (0) SERVER_CPU_MULTI (multi-reactor rows; = SERVER_CPU)
#        START_TIMEOUT (30 s) QUIET_WAIT (0 s: wait up to this long for an idle
#        machine before each run) MAX_OTHER (0.3 cores) STRICT (0; 1 = exit 1 on
#        any error / failed server) ZL_ARGS (extra args for the zergling examples)
#        NODE BUN DENO (binaries; Bun and Deno default to the lock file's, node_modules/.bin)
#        OUT (output prefix)
# Quick smoke run of a few rows: SERVERS="zergling_echo_bun zergling_http_deno"
#        WORKLOADS="echo64 http" DURATION=1 WARMUP=0 OUT=/tmp/zl-smoke/r
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build/bench
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU_MULTI=${SERVER_CPU_MULTI:-$SERVER_CPU}
START_TIMEOUT=${START_TIMEOUT:-30}
QUIET_WAIT=${QUIET_WAIT:-0}
MAX_OTHER=${MAX_OTHER:-0.3}
STRICT=${STRICT:-0}
ZL_ARGS=${ZL_ARGS:-}
OUT=${OUT:-$HERE/results/latest}
NODE=${NODE:-node}
ALL_WORKLOADS="echo64 echo1k pipe16 bulk64m http http_pipe16"
WORKLOADS=${WORKLOADS:-$ALL_WORKLOADS}
# keep peer runtimes from phoning home (update checks, telemetry)
export DO_NOT_TRACK=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1

die() { echo "bench: $*" >&2; exit 2; }
note() { echo "bench: $*" >&2; }

for v in DURATION WARMUP ROUNDS START_TIMEOUT QUIET_WAIT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number of seconds (got '${!v}')"
done
[ "$DURATION" -ge 1 ] || die "DURATION must be >= 1"
[ "$ROUNDS" -ge 1 ] || die "ROUNDS must be >= 1"
for w in $WORKLOADS; do
    case " $ALL_WORKLOADS " in *" $w "*) ;; *) die "unknown workload '$w' (known: $ALL_WORKLOADS)" ;; esac
done

# Bun and Deno are dev dependencies pinned in the lock file (`make bench` runs
# npm ci first): those, not whatever is on PATH, unless BUN/DENO say otherwise.
BUN=${BUN:-$ROOT/node_modules/.bin/bun}
DENO=${DENO:-$ROOT/node_modules/.bin/deno}

# ---------------------------------------------------------------- servers
# Echo servers serve echo64 echo1k pipe16 bulk64m; HTTP servers http http_pipe16.
# zergling_echo_rN / zergling_http_rN: the example with `--reactors N`.
# zergling_{echo,http}_{bun,deno}: the same example (its built JS) run by Bun / Deno.
# base_echo / base_http / base_http_fetch: the same from BASELINE=/path (another built tree), for before/after rows.
# zergling_http: serve()'s fast path; zergling_http_fetch: serve({ fetch }) (Web
# Request/Response, zergling/http's Response); zergling_http_fetch_global: the same
# with the global Response; zergling_http_node: node:http over zergling connections.
ECHO_SERVERS="uring_echo base_echo zergling_echo zergling_echo_bun zergling_echo_deno node_net bun_echo deno_echo bun_net deno_net"
HTTP_SERVERS="uring_http base_http base_http_fetch zergling_http zergling_http_fetch zergling_http_fetch_global zergling_http_node zergling_http_bun zergling_http_deno node_http bun_http deno_http bun_node_http deno_node_http"

zl_supports_reactors() { grep -q -- '--reactors' "$ROOT/examples/$1.ts" 2>/dev/null; }
# The HTTP rows run the peers' handler (one response, no routing): `--app hello`,
# in trees whose example has it (a BASELINE from before it ran the demo routes).
zl_has_app_hello() { grep -q -- "--app demo|hello" "$1/examples/http.ts" 2>/dev/null; }

default_servers() {
    local s="uring_echo zergling_echo"
    zl_supports_reactors echo && s+=" zergling_echo_r2"
    s+=" zergling_echo_bun zergling_echo_deno node_net bun_echo deno_echo"
    s+=" uring_http zergling_http zergling_http_fetch zergling_http_fetch_global zergling_http_node zergling_http_bun zergling_http_deno node_http bun_http deno_http"
    echo "$s"
}

server_kind() { # prints echo|http, fails for an unknown name
    case $1 in zergling_echo_r[0-9]*) echo echo; return ;; zergling_http_r[0-9]*) echo http; return ;; esac
    case " $ECHO_SERVERS " in *" $1 "*) echo echo; return ;; esac
    case " $HTTP_SERVERS " in *" $1 "*) echo http; return ;; esac
    return 1
}

# server_cmd NAME PORT: sets CMD (array) and CPUS, or SKIP (a reason)
server_cmd() {
    local name=$1 port=$2 reactors= runtime=node api= bex=http
    CMD=() SKIP= CPUS=$SERVER_CPU
    case $name in
    base_echo) bex=echo name=base ;;
    base_http) api=fast name=base ;;
    base_http_fetch) api=fetch name=base ;;
    zergling_http_fetch) api=fetch name=zergling_http ;;
    zergling_http_fetch_global) api=fetch-global name=zergling_http ;;
    zergling_http_node) api=node name=zergling_http ;;
    zergling_echo_bun | zergling_http_bun) runtime=bun name=${name%_bun} ;;
    zergling_echo_deno | zergling_http_deno) runtime=deno name=${name%_deno} ;;
    zergling_echo_r*) reactors=${name#zergling_echo_r} name=zergling_echo ;;
    zergling_http_r*) reactors=${name#zergling_http_r} name=zergling_http ;;
    esac
    case $name in
    uring_echo) CMD=("$BUILD/uring_echo" "$port") ;;
    uring_http) CMD=("$BUILD/uring_http" "$port") ;;
    node_net) CMD=("$NODE" "$HERE/peers/node_net_echo.mjs" "$port") ;;
    node_http) CMD=("$NODE" "$HERE/peers/node_http_hello.mjs" "$port") ;;
    bun_echo) CMD=("$BUN" "$HERE/peers/bun_echo.mjs" "$port") ;;
    bun_net) CMD=("$BUN" "$HERE/peers/node_net_echo.mjs" "$port") ;;
    bun_http) CMD=("$BUN" "$HERE/peers/bun_http_hello.mjs" "$port") ;;
    bun_node_http) CMD=("$BUN" "$HERE/peers/node_http_hello.mjs" "$port") ;;
    deno_echo) CMD=("$DENO" run --allow-net "$HERE/peers/deno_echo.mjs" "$port") ;;
    deno_net) CMD=("$DENO" run --allow-net "$HERE/peers/node_net_echo.mjs" "$port") ;;
    deno_http) CMD=("$DENO" run --allow-net "$HERE/peers/deno_http_hello.mjs" "$port") ;;
    deno_node_http) CMD=("$DENO" run --allow-net "$HERE/peers/node_http_hello.mjs" "$port") ;;
    base)
        # The same example from another build of the tree (BASELINE=/path: its dist/), for before/after in one run.
        if [ -z "${BASELINE:-}" ] || [ ! -f "$BASELINE/dist/examples/$bex.js" ]; then
            SKIP="BASELINE=/path/to/a/built/tree not set"
            return
        fi
        CMD=("$NODE" "$BASELINE/dist/examples/$bex.js" --port "$port" $ZL_ARGS)
        [ -n "$api" ] && CMD+=(--api "$api")
        [ "$bex" = http ] && zl_has_app_hello "$BASELINE" && CMD+=(--app hello)
        ;;
    zergling_echo | zergling_http)
        local ex=${name#zergling_}
        if [ ! -f "$ROOT/examples/$ex.ts" ]; then
            SKIP="examples/$ex.ts does not exist yet"
            return
        fi
        # shellcheck disable=SC2206
        # The compiled JavaScript (make dist) when present: bare node, no tsx loader in memory.
        if [ "$runtime" = bun ]; then
            # Bun runs the built JS (or the TypeScript) itself; wake-ups use the helper's waiter thread.
            [ -f "$ROOT/dist/examples/$ex.js" ] && CMD=("$BUN" "dist/examples/$ex.js") || CMD=("$BUN" "examples/$ex.ts")
            CMD+=(--port "$port" $ZL_ARGS)
        elif [ "$runtime" = deno ]; then
            # -A: the N-API helper needs --allow-ffi, the example reads env and binds a port.
            [ -f "$ROOT/dist/examples/$ex.js" ] && CMD=("$DENO" run -A "dist/examples/$ex.js") || CMD=("$DENO" run -A "examples/$ex.ts")
            CMD+=(--port "$port" $ZL_ARGS)
        elif [ -f "$ROOT/dist/examples/$ex.js" ]; then
            CMD=("$NODE" "dist/examples/$ex.js" --port "$port" $ZL_ARGS)
        else
            CMD=("$NODE" --import tsx "examples/$ex.ts" --port "$port" $ZL_ARGS)
        fi
        [ -n "$api" ] && CMD+=(--api "$api")
        [ "$ex" = http ] && [ "$api" != node ] && zl_has_app_hello "$ROOT" && CMD+=(--app hello)
        if [ -n "$reactors" ]; then
            [[ $reactors =~ ^[0-9]+$ ]] || { SKIP="bad reactor count '$reactors'"; return; }
            CMD+=(--reactors "$reactors")
            CPUS=$SERVER_CPU_MULTI
        fi
        ;;
    *) SKIP="unknown server" ;;
    esac
    case $name in
    uring_*) [ -x "${CMD[0]}" ] || SKIP="${CMD[0]} not built" ;;
    esac
}

if [ "${1:-}" = "--list" ]; then
    echo "echo servers: $ECHO_SERVERS zergling_echo_rN"
    echo "http servers: $HTTP_SERVERS zergling_http_rN"
    echo "default SERVERS: $(default_servers)"
    echo "workloads: $ALL_WORKLOADS"
    for s in $(default_servers); do
        server_cmd "$s" 0
        echo "  $s: ${SKIP:-available}"
    done
    exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--list]   (settings come from the environment, see the header)"

SERVERS=${SERVERS:-$(default_servers)}
for s in $SERVERS; do server_kind "$s" >/dev/null || die "unknown server '$s' (see --list)"; done

# ---------------------------------------------------------------- tools
command -v taskset >/dev/null || die "taskset missing (util-linux)"
command -v timeout >/dev/null || die "timeout missing (coreutils)"
# A peer that is missing is an error, not a skipped row: both come from npm ci.
for s in $SERVERS; do
    case $s in
    bun* | *_bun) [ -x "$BUN" ] || die "$BUN missing: run npm ci (or set BUN=/path/to/bun)" ;;
    deno* | *_deno) [ -x "$DENO" ] || die "$DENO missing: run npm ci (or set DENO=/path/to/deno)" ;;
    esac
done
make -s -C "$HERE" BENCH_BUILD="$BUILD" >&2 || die "building the C programs failed (needs gcc and liburing-dev: make setup)"
HAVE_WRK=1
command -v wrk >/dev/null || { HAVE_WRK=0; note "wrk not installed (make setup): HTTP workloads skipped"; }
NCPU=$(nproc)
if [ "$SERVER_CPU" -ge "$NCPU" ] || [ "$CLIENT_CPU" -ge "$NCPU" ]; then
    die "SERVER_CPU=$SERVER_CPU / CLIENT_CPU=$CLIENT_CPU need $NCPU > both"
fi

# ---------------------------------------------------------------- helpers
TMP=$(mktemp -d "${TMPDIR:-/tmp}/zl-bench.XXXXXX")
SPID=
PORT=

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    # below the kernel's ephemeral range (32768-60999 by default): a port there
    # may be some other program's client socket, and listen() fails EADDRINUSE
    local p=$((20000 + RANDOM % 12000))
    while port_open "$p"; do p=$((p + 1)); done
    echo "$p"
}

# "ticks rss_kb nprocs" of every process in the server's process group
group_stats() {
    local g=$1 ticks=0 rss=0 n=0 f st rest pg ut stt hwm
    for f in /proc/[0-9]*/stat; do
        read -r st 2>/dev/null <"$f" || continue
        rest=${st##*) }
        # shellcheck disable=SC2086
        set -- $rest
        pg=$3 ut=${12} stt=${13}
        [ "$pg" = "$g" ] || continue
        ticks=$((ticks + ut + stt))
        hwm=0
        while read -r k v _; do
            [ "$k" = "VmHWM:" ] && { hwm=$v; break; }
        done 2>/dev/null <"${f%/stat}/status"
        rss=$((rss + hwm))
        n=$((n + 1))
    done
    echo "$ticks $rss $n"
}

# busy and steal ticks of the whole machine
sys_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8, $9; exit}' /proc/stat; }

# CPU seconds used by this shell's reaped children; `times` must run in this
# shell (not a subshell), so the result goes through a file
child_secs() {
    times >"$TMP/times"
    printf -v "$1" '%s' "$(awk 'NR==2 {
        n = split($0, f, " "); s = 0
        for (i = 1; i <= n; i++) { split(f[i], p, "m"); sub("s", "", p[2]); s += p[1]*60 + p[2] }
        print s }' "$TMP/times")"
}
now() { date +%s.%N; }

stop_server() {
    [ -n "$SPID" ] || return 0
    kill -TERM -- "-$SPID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    # io_uring tears requests down asynchronously: wait for the port to close
    for _ in $(seq 50); do port_open "$PORT" || break; sleep 0.1; done
    SPID=
}
cleanup() { stop_server; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'note interrupted; exit 130' INT TERM

# one-line, JSON-safe excerpt of a log file
log_excerpt() { tr '\n' ' ' <"$1" 2>/dev/null | tr -cd '[:print:]' | tr -d '"\\' | cut -c1-240; }

# one GET; the answer must contain the body
http_ok() {
    local resp
    if command -v curl >/dev/null; then
        resp=$(curl -s --max-time 3 "http://127.0.0.1:$1/") || return 1
    else
        resp=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"'
            printf "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" >&3
            read -r -t 1 -N 4096 r <&3; printf "%s" "$r"')
    fi
    [[ $resp == *"Hello, World!"* ]]
}

busy_now() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8; exit}' /proc/stat)
    sleep 1
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8; exit}' /proc/stat)
    awk -v a="$a" -v b="$b" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / t }'
}
wait_quiet() {
    [ "$QUIET_WAIT" -gt 0 ] || return 0
    local waited=0 busy
    while :; do
        busy=$(busy_now)
        awk -v x="$busy" -v m="$MAX_OTHER" 'BEGIN { exit !(x <= m) }' && return 0
        waited=$((waited + 1))
        [ "$waited" -ge "$QUIET_WAIT" ] && { note "machine still busy ($busy cores), running anyway"; return 0; }
    done
}

# run_load WORKLOAD SECONDS OUTFILE: one load process, in this shell
run_load() {
    local wl=$1 secs=$2 out=$3
    case $wl in
    echo64) set -- -c 64 -s 64 -P 1 ;;
    echo1k) set -- -c 256 -s 1024 -P 1 ;;
    pipe16) set -- -c 16 -s 64 -P 16 ;;
    bulk64m) set -- -L 64 ;;
    http) set -- 1 ;;
    http_pipe16) set -- 16 ;;
    esac
    if [ "$wl" = http ] || [ "$wl" = http_pipe16 ]; then
        taskset -c "$CLIENT_CPU" timeout --foreground -k 2 $((secs + 20)) wrk -t1 -c64 -d"${secs}s" --timeout 5s \
            -s "$HERE/wrk_json.lua" "http://127.0.0.1:$PORT/" -- "$1" >"$out.raw" 2>"$out.err"
        local rc=$?
        grep '^{' "$out.raw" | head -1 | sed "s/^{/{\"conns\":64,\"size\":0,\"pipeline\":$1,/" |
            if [ "$1" -gt 1 ]; then
                # wrk records one latency per pipelined batch and its
                # coordinated-omission correction breaks the percentiles
                sed -E 's/"(p50|p99|p999|mean)_us":[0-9.]+/"\1_us":null/g'
            else cat; fi >"$out"
        return $rc
    fi
    # loadgen: at most 5 s to connect + secs; -w 0: the warmup is a separate run
    taskset -c "$CLIENT_CPU" timeout --foreground -k 2 $((secs + 20)) "$BUILD/loadgen" -H 127.0.0.1 -p "$PORT" \
        "$@" -d "$secs" -w 0 >"$out" 2>"$out.err"
}

fmt_rate() { awk -v x="$1" 'BEGIN { if (x >= 1e6) printf "%.2fM", x/1e6; else if (x >= 1e4) printf "%.1fk", x/1e3; else printf "%.1f", x }'; }
jnum() { sed -n "s/.*\"$1\":\([-0-9.enull]*\).*/\1/p" <<<"$2" | head -1 | sed 's/^null$/-/'; }

# ---------------------------------------------------------------- plan
HIST=$(dirname "$OUT")/tmp
mkdir -p "$HIST"
JSONL=$OUT.jsonl
: >"$JSONL"

declare -A SKIPPED=()
ACTIVE=()
for s in $SERVERS; do
    server_cmd "$s" 0
    kind=$(server_kind "$s")
    if [ -z "$SKIP" ] && [ "$kind" = http ] && [ "$HAVE_WRK" = 0 ]; then SKIP="wrk not installed"; fi
    if [ -n "$SKIP" ]; then
        SKIPPED[$s]=$SKIP
        note "skipping $s: $SKIP"
        echo "{\"server\":\"$s\",\"kind\":\"$kind\",\"skipped\":\"$SKIP\"}" >>"$JSONL"
    else
        ACTIVE+=("$s")
    fi
done

total=0
for wl in $WORKLOADS; do
    case $wl in http*) k=http ;; *) k=echo ;; esac
    for s in "${ACTIVE[@]}"; do [ "$(server_kind "$s")" = "$k" ] && total=$((total + 1)); done
done
total=$((total * ROUNDS))
[ "$total" -gt 0 ] || die "nothing to run (SERVERS='$SERVERS' WORKLOADS='$WORKLOADS')"
note "$total runs x (${WARMUP}s warmup + ${DURATION}s measured + start/stop): about $(( (total * (WARMUP + DURATION + 3) + 59) / 60 )) min"
note "server on CPU $SERVER_CPU, load on CPU $CLIENT_CPU, 127.0.0.1 only; writing $JSONL"

kernel=$(uname -r)
cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo | tr -d '"\\')
ver() { "$@" 2>/dev/null | head -1 | tr -d '"\\' | cut -c1-60; }
cat >"$OUT.meta.json" <<EOF
{"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","host_cpus":$NCPU,"cpu":"$cpu_model","kernel":"$kernel",
 "node":"$(ver "$NODE" --version)","bun":"$([ -n "$BUN" ] && ver "$BUN" --version)","deno":"$([ -n "$DENO" ] && ver "$DENO" --version)",
 "wrk":"$(wrk -v 2>&1 | sed -n 's|^wrk \(debian/\)\{0,1\}\([^ ]*\).*|wrk \2|p' | head -1)","liburing":"$(dpkg-query -W -f='${Version}' liburing-dev 2>/dev/null)",
 "duration":$DURATION,"warmup":$WARMUP,"rounds":$ROUNDS,"server_cpu":"$SERVER_CPU","client_cpu":"$CLIENT_CPU",
 "command":"DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS SERVERS='$SERVERS' WORKLOADS='$WORKLOADS' bash bench/run.sh"}
EOF

# ---------------------------------------------------------------- runs
TCK=$(getconf CLK_TCK)
declare -A REF_RATE=()
n=0
bad=0
for round in $(seq "$ROUNDS"); do
    for wl in $WORKLOADS; do
        case $wl in http*) kind=http ref=uring_http ;; *) kind=echo ref=uring_echo ;; esac
        list=()
        for s in "${ACTIVE[@]}"; do [ "$(server_kind "$s")" = "$kind" ] && list+=("$s"); done
        m=${#list[@]}
        for ((i = 0; i < m; i++)); do
            # rotate the order each round so slow drift of the machine hits all alike
            s=${list[$(((i + round - 1) % m))]}
            n=$((n + 1))
            tag=$(printf '[%2d/%d] r%d %-11s %-16s' "$n" "$total" "$round" "$wl" "$s")
            wait_quiet
            PORT=$(pick_port)
            server_cmd "$s" "$PORT"
            LOG=$TMP/server.log
            : >"$LOG"
            (cd "$ROOT" && exec setsid taskset -c "$CPUS" "${CMD[@]}") >"$LOG" 2>&1 </dev/null &
            SPID=$!
            ready=0
            deadline=$((SECONDS + START_TIMEOUT))
            while [ $SECONDS -lt $deadline ]; do
                if port_open "$PORT"; then ready=1; break; fi
                kill -0 "$SPID" 2>/dev/null || break
                sleep 0.05
            done
            prefix="{\"round\":$round,\"server\":\"$s\",\"workload\":\"$wl\",\"kind\":\"$kind\""
            if [ $ready = 0 ]; then
                why="did not listen on $PORT within ${START_TIMEOUT}s"
                kill -0 "$SPID" 2>/dev/null || why="exited before listening"
                stop_server
                echo "$prefix,\"failed\":\"$why\",\"server_log\":\"$(log_excerpt "$LOG")\"}" >>"$JSONL"
                echo "$tag FAILED: $why: $(log_excerpt "$LOG" | cut -c1-120)" >&2
                bad=$((bad + 1))
                continue
            fi
            check_err=0
            if [ "$kind" = http ] && ! http_ok "$PORT"; then check_err=1; fi
            [ "$WARMUP" -gt 0 ] && run_load "$wl" "$WARMUP" "$TMP/warm.json"

            read -r b0 st0 < <(sys_ticks)
            read -r p0 _ _ < <(group_stats "$SPID")
            child_secs c0
            t0=$(now)
            run_load "$wl" "$DURATION" "$TMP/load.json"
            rc=$?
            t1=$(now)
            child_secs c1
            read -r p1 rss nproc < <(group_stats "$SPID")
            read -r b1 st1 < <(sys_ticks)
            alive=1
            kill -0 "$SPID" 2>/dev/null || alive=0
            stop_server

            RESULT=$(head -1 "$TMP/load.json" 2>/dev/null)
            if [ -z "$RESULT" ]; then
                RESULT='{"msgs_per_s":0,"errors":1,"no_result":true}'
            fi
            EXTRA=$(awk -v t0="$t0" -v t1="$t1" -v p0="$p0" -v p1="$p1" -v c0="$c0" -v c1="$c1" \
                -v b0="$b0" -v b1="$b1" -v s0="$st0" -v s1="$st1" -v tck="$TCK" 'BEGIN {
                w = t1 - t0; srv = (p1 - p0) / tck / w; cli = (c1 - c0) / w
                oth = (b1 - b0) / tck / w - srv - cli; if (oth < 0) oth = 0
                printf "\"server_cpu\":%.3f,\"client_cpu\":%.3f,\"other_cpu\":%.3f,\"steal_cpu\":%.3f,\"wall_s\":%.2f",
                    srv, cli, oth, (s1 - s0) / tck / w, w }')
            BODY=$(sed 's/,"client_cpu":[0-9.]*//' <<<"$RESULT")
            BODY=${BODY#\{}
            BODY=${BODY%\}}
            line="$prefix,$BODY,\"rss_kb\":${rss:-0},\"server_procs\":${nproc:-0},$EXTRA,\"alive\":$alive,\"load_rc\":$rc,\"check_failed\":$check_err,\"port\":$PORT,\"server_log\":\"$(log_excerpt "$LOG")\",\"load_log\":\"$(log_excerpt "$TMP/load.json.err")\"}"
            echo "$line" >>"$JSONL"

            rate=$(jnum msgs_per_s "$line")
            errs=$(jnum errors "$line")
            errs=$((${errs%.*} + check_err + (alive == 0 ? 1 : 0)))
            [ "$errs" -gt 0 ] || [ "$rc" != 0 ] && bad=$((bad + 1))
            [ "$s" = "$ref" ] && REF_RATE[$wl]=$rate
            ratio=$(awk -v r="$rate" -v f="${REF_RATE[$wl]:-0}" 'BEGIN { if (f > 0) printf "x%.2f", r / f; else printf "x?" }')
            msg="$(fmt_rate "$rate") msgs/s $ratio  p50 $(jnum p50_us "$line")us p99 $(jnum p99_us "$line")us"
            msg+="  rss $(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k/1024 }')MiB cpu $(jnum server_cpu "$line")"
            msg+="  other $(jnum other_cpu "$line")  errors $errs"
            [ "$alive" = 0 ] && msg+=" (server died)"
            [ "$check_err" = 1 ] && msg+=" (HTTP check failed)"
            [ "$rc" != 0 ] && msg+=" (load rc=$rc)"
            echo "$tag $msg" >&2
        done
    done
done

cp "$JSONL" "$HIST/$(basename "$OUT")-$(date +%Y%m%d-%H%M%S).jsonl"
"$NODE" "$HERE/report.mjs" "$JSONL" "$OUT.meta.json" >"$OUT.md" || die "report.mjs failed"
"$NODE" "$HERE/chart.mjs" "$JSONL" "$OUT.meta.json" >"$OUT.svg" || die "chart.mjs failed"
cat "$OUT.md"
note "wrote $JSONL, $OUT.md, $OUT.svg"
if [ "$STRICT" = 1 ] && [ "$bad" -gt 0 ]; then
    note "$bad run(s) with errors or failures (STRICT=1)"
    exit 1
fi
exit 0
