#!/usr/bin/env bash
# The README's two commands on a machine that has none of the Debian packages
# `make setup` installs (issue 14, item 1). Not run by CI or test/run.sh: it
# purges packages other builds on this machine may be using.
#
#   sudo bash test/fresh-machine.sh        (root: it runs apt-get)
#
# 1. Reads APT_PKGS from the Makefile, `apt-get purge -y` them and
#    `apt-get autoremove -y` (what they pulled in goes too).
# 2. Clones the committed HEAD of this checkout into a temp dir (uncommitted
#    changes are not part of the test).
# 3. There: `make test` (must pass on the first run and print "N passed, 0 failed, 0 skipped"),
#    then `make run` in the background on a free loopback PORT, waits until it
#    answers an HTTP request, and stops it by its process id.
# Prints each command's result; exits non-zero when any step fails.
# KEEP=1 keeps the temp dir (it is kept anyway when a step fails).
set -uo pipefail

# root runs this on a checkout another user may own: do not let git refuse it as "dubious"
GIT=(git -c safe.directory='*')
SRC=$(cd "$(dirname "$0")/.." && "${GIT[@]}" rev-parse --show-toplevel) || { echo "fresh-machine: not in a git checkout" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then echo "fresh-machine: must run as root (apt-get purge/install)" >&2; exit 2; fi
for tool in git make node; do
  command -v "$tool" >/dev/null || { echo "fresh-machine: $tool is missing (not one of the packages make setup installs)" >&2; exit 2; }
done

SHA=$("${GIT[@]}" -C "$SRC" rev-parse HEAD)
if [ -n "$("${GIT[@]}" -C "$SRC" status --porcelain --untracked-files=no)" ]; then
  echo "fresh-machine: note: $SRC has uncommitted changes; testing the committed HEAD $SHA only"
fi
PKGS=$(sed -n 's/^APT_PKGS[[:space:]]*:=[[:space:]]*//p' "$SRC/Makefile" | head -1)
if [ -z "$PKGS" ]; then echo "fresh-machine: no APT_PKGS line in $SRC/Makefile" >&2; exit 2; fi

WORK=$(mktemp -d /tmp/zergling-fresh.XXXXXX)
DIR=$WORK/zergling
SERVER_PID=
results=()
failed=0

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then stop_server; fi
  if [ "$failed" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "fresh-machine: logs and clone kept in $WORK"; fi
}
trap cleanup EXIT

# `make run` is started under setsid, so its PID is also its process group's id:
# signalling that group stops make and the node server it started, and nothing else.
stop_server() {
  kill -TERM -- "-$SERVER_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

step() { # name, then the command; output goes to $WORK/<n>.log and its tail to stdout
  local name=$1; shift
  local log=$WORK/$(( ${#results[@]} + 1 )).log
  local t0=$SECONDS
  echo "==> $name"
  "$@" >"$log" 2>&1
  local rc=$?
  tail -n 25 "$log" | sed 's/^/    /'
  if [ "$rc" -eq 0 ]; then results+=("PASS  $name ($((SECONDS - t0)) s)"); else results+=("FAIL  $name (exit $rc, $((SECONDS - t0)) s, log $log)"); failed=1; fi
  return "$rc"
}

summary() {
  echo
  echo "fresh-machine summary (commit $SHA):"
  printf '  %s\n' "${results[@]}"
}

purge() {
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086  # one word per package
  apt-get purge -y $PKGS && apt-get autoremove -y || return 1
  # shellcheck disable=SC2086
  local left; left=$(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null | grep ' installed$')
  if [ -n "$left" ]; then echo "still installed: $left"; return 1; fi
  echo "none of [$PKGS] is installed"
}

clone() {
  "${GIT[@]}" clone --quiet --no-checkout "$SRC" "$DIR" && "${GIT[@]}" -C "$DIR" checkout --quiet --detach "$SHA" \
    && "${GIT[@]}" -C "$DIR" log --oneline -1
}

make_test() {
  (cd "$DIR" && make test) 2>&1 | tee "$WORK/make-test.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  # the README promises this last line; a run that printed no tests is not a
  # pass, and on a machine make setup just provisioned nothing may be skipped
  tail -n 1 "$WORK/make-test.log" | grep -Eq '^[1-9][0-9]* passed, 0 failed, 0 skipped$'
}

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"
}

http_get() { # port -> prints the body, fails unless 200
  node -e "
    require('http').get({ host: '127.0.0.1', port: +process.argv[1], path: '/', timeout: 2000 }, (res) => {
      let b = ''; res.on('data', (d) => b += d);
      res.on('end', () => { process.stdout.write(b); process.exit(res.statusCode === 200 ? 0 : 1); });
    }).on('error', () => process.exit(1)).on('timeout', function () { this.destroy(); });" "$1"
}

make_run() {
  local port; port=$(free_port) || return 1
  echo "make run PORT=$port"
  (cd "$DIR" && exec setsid make run PORT="$port") >"$WORK/run.log" 2>&1 &
  SERVER_PID=$!
  sleep 0.2
  local pgid; pgid=$(ps -o pgid= -p "$SERVER_PID" | tr -d ' ')
  if [ -n "$pgid" ] && [ "$pgid" != "$SERVER_PID" ]; then
    # setsid forked: $! is not the group leader, so the group cannot be signalled by this id
    echo "make run: process $SERVER_PID is in group $pgid, not its own; stopping it"; kill -TERM "$SERVER_PID"; SERVER_PID=; return 1
  fi
  local body='' ok=1
  for _ in $(seq 1 600); do   # up to ~5 min: make run first checks/builds
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "make run exited early:"; cat "$WORK/run.log"; SERVER_PID=; return 1; fi
    if body=$(http_get "$port" 2>/dev/null); then ok=0; break; fi
    sleep 0.5
  done
  tail -n 5 "$WORK/run.log"
  echo "GET http://127.0.0.1:$port/ -> ${body:-no answer}"
  stop_server
  [ "$ok" -eq 0 ] && [ "$body" = "Hello, World!" ]
}

step "apt-get purge -y [$PKGS] && apt-get autoremove -y" purge \
  && step "git clone $SRC (HEAD $SHA) into $DIR" clone \
  && step "make test (first run, on a machine without the packages)" make_test \
  && step "make run (until it answers HTTP on 127.0.0.1)" make_run
summary
exit "$failed"
