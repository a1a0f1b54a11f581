#!/usr/bin/env bash
# Runs every Go fuzz target of the workspace (func Fuzz… in *_test.go), one
# `go test -fuzz` per target, each for FUZZTIME (default 3s), and prints a
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

fuzztime="${FUZZTIME:-3s}"
filter="${1:-.}"
logdir=$(mktemp -d /tmp/shop-fuzz.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# package directory and target name of every fuzz target, sorted
mapfile -t targets < <(git ls-files '*_test.go' | xargs grep -H -o '^func Fuzz[A-Za-z0-9_]*' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$#\1 \2#' | sort -u | awk -v f="$filter" '$2 ~ f')
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz: no target matches $filter" >&2; exit 1; }

failed=()
rows=()
start_all=$SECONDS
for t in "${targets[@]}"; do
	dir=${t% *} name=${t#* }
	log="$logdir/$name-${dir//\//_}.log"
	start=$SECONDS
	if go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "./$dir" >"$log" 2>&1; then
		status=ok
	else
		status=FAIL
		failed+=("$dir $name")
		sed 's/^/    /' "$log" | tail -60 >&2
	fi
	# go test's last progress line: "fuzz: elapsed: 3s, execs: 1234 (411/sec), new interesting: 2 (total: 40)"
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -1 || true)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	fresh=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 of \2/p' <<<"$last")
	rows+=("$(printf '%-22s %-40s %9s %12s %5ss  %s' "$name" "$dir" "${execs:-?}" "${fresh:-?}" "$((SECONDS - start))" "$status")")
done

printf '%-22s %-40s %9s %12s %6s  %s\n' target package execs "new (corpus)" wall result
printf '%s\n' "${rows[@]}"
echo "fuzz: ${#targets[@]} targets, ${fuzztime} each, $((SECONDS - start_all))s in all"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: FAIL: ${failed[*]} (the failing inputs are under each package's testdata/fuzz/)" >&2
	exit 1
fi
