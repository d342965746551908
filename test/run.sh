#!/usr/bin/env bash
# Runs every test/**/*.test.ts in its own Node process (a native crash cannot
# hide the other files' results), then prints one plain line CI reads:
#   N passed, N failed, N skipped
# A skipped test (uvu's test.skip, e.g. the native half of a suite when the
# helper cannot load) is neither a pass nor a failure: it is counted apart so
# that a run which silently skipped is visible in the last line.
# TEST_FILTER=regex narrows the files; TEST_LABEL prefixes the summary line
# (make test-asan: "asan: N passed, N failed, N skipped").
set -u
cd "$(dirname "$0")/.."
export NO_COLOR=1
passed=0; failed=0; skipped=0; bad=()
mapfile -t files < <(find test -name '*.test.ts' | sort | grep -E "${TEST_FILTER:-.}")
for f in "${files[@]}"; do
  start=$(date +%s)
  out=$(timeout "${TEST_TIMEOUT:-240}" node --import tsx "$f" 2>&1); rc=$?
  total=$(grep -E '^ *Total:' <<<"$out" | tail -1 | grep -oE '[0-9]+' || true)
  pass=$(grep -E '^ *Passed:' <<<"$out" | tail -1 | grep -oE '[0-9]+' || true)
  skip=$(grep -E '^ *Skipped:' <<<"$out" | tail -1 | grep -oE '[0-9]+' || true)
  total=${total:-0}; pass=${pass:-0}; skip=${skip:-0}
  fail=$((total - pass))
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi   # crashed or timed out outside a test
  passed=$((passed + pass)); failed=$((failed + fail)); skipped=$((skipped + skip))
  printf '%-48s %3d passed %3d failed %3d skipped  (%ss)\n' "$f" "$pass" "$fail" "$skip" "$(( $(date +%s) - start ))"
  if [ "$fail" -ne 0 ]; then bad+=("$f"); echo "$out" | tail -250; fi
done
echo "${TEST_LABEL:-}${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] && [ "${#files[@]}" -gt 0 ]
