#!/usr/bin/env bash
# Smoke test of the local stack, run by `make test`: `make up` from scratch,
# every service ready, metrics served, a bad setting refused at start-up with
# a clear message and a non-zero exit, then `make down` stops everything it
# started, and a second `make up` finds the broker's data again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

export SHOP_LOCAL_DIR="${SHOP_LOCAL_DIR:-$(mktemp -d /tmp/shop-smoke.XXXXXX)}"
source "$(dirname "$0")/lib.sh" # re-read paths for the temporary state dir
cleanup() { "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

"$ROOT/scripts/stack.sh" up
for port in 8081 8082 8083 8084 8085; do
	body=$(curl -fsS "http://127.0.0.1:$port/readyz") || fail "readyz on $port"
	grep -q '"status":"ok"' <<<"$body" || fail "readyz on $port: $body"
	metrics=$(curl -fsS "http://127.0.0.1:$port/metrics") || fail "metrics on $port"
	grep -q '^http_requests_total' <<<"$metrics" || fail "metrics on $port lack http_requests_total"
done

# A bad value stops start-up with a message naming it and exit status 1.
set +e
out=$(SHOP_TOPIC_PARTITIONS=zero SHOP_HTTP_ADDR=127.0.0.1:0 "$LOCAL/bin/catalog" 2>&1)
code=$?
set -e
[ "$code" -eq 1 ] || fail "bad config exited with $code, want 1"
grep -q SHOP_TOPIC_PARTITIONS <<<"$out" || fail "bad config message does not name the variable: $out"

pids=$(cat "$PIDS"/*.pid)
"$ROOT/scripts/stack.sh" down
for pid in $pids; do
	! kill -0 "$pid" 2>/dev/null || fail "process $pid still runs after make down"
done
grep -q '"msg":"stopped cleanly"' "$LOGS/order.log" || fail "order did not log a clean stop"

"$ROOT/scripts/stack.sh" up >/dev/null
curl -fsS http://127.0.0.1:8084/readyz >/dev/null || fail "second make up"
echo "smoke: OK"
