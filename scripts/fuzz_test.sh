#!/usr/bin/env bash
# Checks scripts/fuzz.sh against a stand-in `go` (run by make lint): it runs a target
# once more after Go's bare -fuzztime deadline error, and fails on a second one, on a
# failing input written, or on a new corpus file.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
cat > "$dir/go" <<EOF
#!/usr/bin/env bash
case "\$1 \$2" in
  "list ./...") echo example.com/p ;;
  "list -f") echo $dir/pkg ;;
  "test -list") echo FuzzX; echo ok ;;
  "test -run")
    n=\$(cat $dir/count 2>/dev/null || echo 0); n=\$((n+1)); echo \$n > $dir/count
    flake() { printf -- '--- FAIL: FuzzX (3.09s)\n    context deadline exceeded\nFAIL\n'; exit 1; }
    case "\$MODE" in
      pass) echo ok ;;
      flake-once) [ \$n -eq 1 ] && flake; echo ok ;;
      flake-twice) flake ;;
      input-written) printf -- '--- FAIL: FuzzX (3.09s)\n    x_test.go:9: bad\n    Failing input written to testdata/fuzz/FuzzX/abc\nFAIL\n'; exit 1 ;;
      new-corpus-file) mkdir -p $dir/pkg/testdata/fuzz/FuzzX; touch $dir/pkg/testdata/fuzz/FuzzX/n\$n; flake ;;
      seed-fails) printf -- '--- FAIL: FuzzX (0.01s)\n    --- FAIL: FuzzX/seed#0 (0.00s)\n        x_test.go:9: bad\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
    esac ;;
esac
EOF
chmod +x "$dir/go"
failed=0
check() { # MODE, the exit code and number of runs fuzz.sh must end with
  rm -rf "$dir/count" "$dir/pkg"
  MODE=$1 GO="$dir/go" FUZZTIME=1s scripts/fuzz.sh >"$dir/out" 2>&1
  local rc=$? runs; runs=$(cat "$dir/count")
  if [ "$rc" -ne "$2" ] || [ "$runs" -ne "$3" ]; then
    echo "fuzz_test: $1: exit $rc after $runs runs, want exit $2 after $3" >&2; cat "$dir/out" >&2; failed=1
  fi
}
check pass 0 1
check flake-once 0 2
check flake-twice 1 2
check input-written 1 1
check new-corpus-file 1 1
check seed-fails 1 1
[ "$failed" -eq 0 ] && echo "fuzz_test: ok"
exit "$failed"
