#!/usr/bin/env bash
# Runs every Go fuzz target of the workspace (func Fuzz… in *_test.go), one
# `go test -fuzz` per target, each for FUZZTIME (default 6s, counted from the
# start: the service's setup in the worker included), and prints a
# table: target, package, executions, new interesting inputs, wall time.
# `make test` runs it short; `make fuzz` longer (FUZZTIME=1m make fuzz).
#
#   scripts/fuzz.sh [REGEXP]   only the targets whose name matches REGEXP
#
# A failing input is written by go test to the package's
# testdata/fuzz/<Target>/ (commit it: it then runs in every `go test`); the
# script goes on with the other targets and exits non-zero at the end.
# Seed corpora run as plain tests in `go test ./...` already.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

fuzztime="${FUZZTIME:-6s}"
filter="${1:-.}"
logdir=$(mktemp -d /tmp/shop-fuzz.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# package directory and target name of every fuzz target, sorted
mapfile -t targets < <(git ls-files '*_test.go' | xargs grep -H -o '^func Fuzz[A-Za-z0-9_]*' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$#\1 \2#' | sort -u | awk -v f="$filter" '$2 ~ f')
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz: no target matches $filter" >&2; exit 1; }

# Two targets at a time, one fuzzing worker each: while one links its test
# binary or starts its service, the other fuzzes (FUZZJOBS=1 for one).
jobs="${FUZZJOBS:-2}"
run_target() { # dir name: writes $logdir/<n>.row and the log
	local dir=$1 name=$2 n=$3 start=$SECONDS status=ok log="$logdir/$(printf %03d "$3").log"
	go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -parallel 1 "./$dir" >"$log" 2>&1 || status=FAIL
	# go test's last progress line: "fuzz: elapsed: 3s, execs: 1234 (411/sec), new interesting: 2 (total: 40)"
	local last execs fresh
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -1 || true)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	fresh=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 of \2/p' <<<"$last")
	printf '%-22s %-40s %9s %12s %5ss  %s\n' "$name" "$dir" "${execs:-0}" "${fresh:--}" "$((SECONDS - start))" "$status" >"$logdir/$(printf %03d "$n").row"
}

start_all=$SECONDS
n=0
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
	n=$((n + 1))
	run_target "${t% *}" "${t#* }" "$n" &
done
wait

printf '%-22s %-40s %9s %12s %6s  %s\n' target package execs "new (corpus)" wall result
cat "$logdir"/*.row
echo "fuzz: ${#targets[@]} targets, ${fuzztime} each, $jobs at a time, $((SECONDS - start_all))s in all"
if grep -q 'FAIL$' "$logdir"/*.row; then
	for row in "$logdir"/*.row; do
		grep -q 'FAIL$' "$row" && tail -60 "${row%.row}.log" | sed 's/^/    /' >&2
	done
	echo "fuzz: FAIL (the failing inputs are under each package's testdata/fuzz/)" >&2
	exit 1
fi
