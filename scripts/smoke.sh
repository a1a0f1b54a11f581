#!/usr/bin/env bash
# Smoke test of the local stack, run by `make test`: `make up` from scratch,
# every service ready, metrics served, the gateway in front of them (the
# apps' pages, the API documents, the API, the edge authentication), a bad
# setting refused at start-up with a clear message and a non-zero exit, then
# `make down` stops everything it started, and a second `make up` finds the
# broker's data again.
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

# The gateway: one origin for all of it.
gw=http://127.0.0.1:8080
curl -fsS "$gw/healthz" >/dev/null || fail "gateway /healthz"
grep -qi '<html' <<<"$(curl -fsS "$gw/")" || fail "gateway: no page at /"
grep -qi '<html' <<<"$(curl -fsS "$gw/admin/")" || fail "gateway: no page at /admin/"
init=$(curl -fsS "$gw/docs/swagger-initializer.js") || fail "gateway: /docs/"
for s in identity catalog inventory order payment; do
	grep -q "specs/$s.yaml" <<<"$init" || fail "gateway: /docs/ does not list $s"
	curl -fsS -o /dev/null "$gw/docs/specs/$s.yaml" || fail "gateway: /docs/specs/$s.yaml"
done
grep -q '"items"' <<<"$(curl -fsS "$gw/api/v1/products")" || fail "gateway: GET /api/v1/products"
code=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$gw/api/v1/orders/00000000-0000-0000-0000-000000000000")
[ "$code" = "401 application/problem+json" ] || fail "gateway: an order without a token gave '$code', want a 401 problem"
grep -q '"uri":"/api/v1/products"' "$LOGS/gateway-access.log" || fail "gateway: no access log line"

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
curl -fsS http://127.0.0.1:8080/healthz >/dev/null || fail "second make up: gateway"
echo "smoke: OK"
