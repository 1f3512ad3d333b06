#!/usr/bin/env bash
# make fuzz: every fuzz target of the module for FUZZTIME each, one after the other.
#
# Go 1.26's fuzz coordinator can end a duration-bounded run with a bare
# "context deadline exceeded" at the -fuzztime boundary, having found nothing, and exit 1
# (go.dev/issue/75804, fixed in Go 1.27). CI met it on FuzzDocument, twice in three
# runs, so CI gives each target a count of inputs instead (FUZZTIME=10000x), which has
# no deadline to race; `GOTOOLCHAIN=go1.27.3 make fuzz` fuzzes on a Go with the fix
# (fetched from the module proxy; it compiles everything again, minutes on a fresh
# machine). With a duration on Go 1.26, such a run is run once more; it fails only if
# it fails the same way again. Any other failure, and any failure that wrote a failing
# input under testdata/fuzz/, fails at once.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}

# boundary_flake LOG DIR BEFORE: the run logged in LOG failed only with the coordinator's
# deadline error, and wrote no new input into DIR (BEFORE lists what DIR held).
boundary_flake() {
  local log=$1 dir=$2 before=$3
  grep -q '^    context deadline exceeded$' "$log" || return 1
  grep -qE 'Failing input written|seed corpus|panic:|_test\.go:[0-9]+:|--- FAIL: [^ ]+/' "$log" && return 1
  [ "$(ls "$dir" 2>/dev/null)" = "$before" ]
}

pkgs=$($GO list ./...) || { echo "fuzz: go list failed; fix the build first" >&2; exit 1; }
for pkg in $pkgs; do
  pkgdir=$($GO list -f '{{.Dir}}' "$pkg")
  for t in $($GO test -list 'Fuzz.*' "$pkg" 2>/dev/null | grep '^Fuzz'); do
    for try in 1 2; do
      echo "fuzz $pkg $t"
      corpus="$pkgdir/testdata/fuzz/$t"
      before=$(ls "$corpus" 2>/dev/null)
      log=$(mktemp)
      $GO test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"
      rc=${PIPESTATUS[0]}
      if [ "$rc" -eq 0 ]; then rm -f "$log"; break; fi
      if [ "$try" -eq 1 ] && boundary_flake "$log" "$corpus" "$before"; then
        echo "fuzz: $t ended on Go's -fuzztime boundary race (go.dev/issue/75804) with no failing input; running it once more"
        rm -f "$log"
        continue
      fi
      rm -f "$log"
      echo "fuzz: $t failed in $pkg (exit $rc); a failing input, if any, is under $corpus: rerun it with go test -run '$t' $pkg" >&2
      exit 1
    done
  done
done
