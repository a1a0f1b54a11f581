#!/usr/bin/env bash
# The local stack on a bare machine.
#
#   scripts/stack.sh up      install/start PostgreSQL and Redis if needed, build,
#                            start the broker, the five services and the nginx
#                            gateway in front of them, wait until all are ready,
#                            print the URL
#   scripts/stack.sh down    stop exactly what `up` started
#   scripts/stack.sh status  what runs, and whether it is ready
#
# Logs: .local/logs/<name>.log (the gateway's access log:
# .local/logs/gateway-access.log); pids: .local/pids/<name>.pid.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SERVICES=(identity catalog inventory order payment)
declare -A PORT=([identity]=8081 [catalog]=8082 [inventory]=8083 [order]=8084 [payment]=8085 [gateway]=8080)
BIN="$LOCAL/bin"
GATEWAY="$LOCAL/gateway"
# The gateway connects to the services from this address, the only one
# whose X-Forwarded-For they believe: a client on 127.0.0.1 that sends the
# header straight to a service changes nothing.
GATEWAY_PROXY_ADDR=127.0.0.2

build() {
	log "building into $BIN"
	mkdir -p "$BIN"
	(cd "$ROOT" && go build -o "$BIN/localbroker" ./deploy/localbroker)
	for s in "${SERVICES[@]}"; do
		(cd "$ROOT" && go build -o "$BIN/$s" "./services/$s/cmd/$s")
	done
	(cd "$ROOT" && go build -o "$BIN/demohistory" ./scripts/demohistory)
}

# start NAME COMMAND...: run in the background with its log and pid file.
start() {
	local name=$1; shift
	if pid_alive "$PIDS/$name.pid"; then
		log "$name already running (pid $(cat "$PIDS/$name.pid"))"
		return
	fi
	nohup "$@" >>"$LOGS/$name.log" 2>&1 &
	echo $! >"$PIDS/$name.pid"
}

ready() {
	local path=/readyz
	[ "$1" != gateway ] || path=/healthz
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${PORT[$1]}$path"
}

# app_root APP: the app's build when there is one, else its placeholder page
# (scripts/internal/gateway.DefaultAppRoot makes the same choice).
app_root() {
	if [ -f "$ROOT/frontend/$1/dist/index.html" ]; then echo "$ROOT/frontend/$1/dist"
	else echo "$ROOT/deploy/gateway/placeholder/$1"; fi
}

# gateway renders the gateway's configuration (deploy/gateway/render.sh, as
# compose and the chart do) and starts nginx.
gateway() {
	if pid_alive "$PIDS/gateway.pid"; then
		log "gateway already running (pid $(cat "$PIDS/gateway.pid"))"
		return
	fi
	port_open 127.0.0.1 "${PORT[gateway]}" && die "port ${PORT[gateway]} for the gateway is taken by another process"
	"$ROOT/deploy/gateway/docs.sh" "$GATEWAY/docs"
	local user=
	[ "$(id -u)" -ne 0 ] || user=$(id -un) # workers as the services' user, not nobody
	env SHOP_GATEWAY_LISTEN="127.0.0.1:${PORT[gateway]}" \
		SHOP_GATEWAY_PROXY_BIND=$GATEWAY_PROXY_ADDR \
		SHOP_GATEWAY_EDGE_AUTH="${SHOP_GATEWAY_EDGE_AUTH:-on}" \
		SHOP_GATEWAY_STOREFRONT_ROOT="$(app_root storefront)" \
		SHOP_GATEWAY_ADMIN_ROOT="$(app_root admin)" \
		SHOP_GATEWAY_DOCS_ROOT="$GATEWAY/docs" \
		SHOP_GATEWAY_STATE_DIR="$GATEWAY/state" \
		SHOP_GATEWAY_ACCESS_LOG="$LOGS/gateway-access.log" \
		SHOP_GATEWAY_ERROR_LOG="$LOGS/gateway.log" \
		SHOP_GATEWAY_USER="$user" \
		"$ROOT/deploy/gateway/render.sh" "$GATEWAY/conf"
	start gateway nginx -e "$LOGS/gateway.log" -p "$GATEWAY/state" -c "$GATEWAY/conf/nginx.conf"
}

up() {
	"$ROOT/scripts/deps.sh"
	build
	if ! pid_alive "$PIDS/broker.pid" && port_open 127.0.0.1 9092; then
		die "port 9092 is taken by another process; stop it or run that broker for the stack"
	fi
	start broker "$BIN/localbroker" -port 9092 -data-dir "$LOCAL/broker"
	wait_for broker 30 port_open 127.0.0.1 9092 || die "broker did not start; see $LOGS/broker.log"
	for s in "${SERVICES[@]}"; do
		if ! pid_alive "$PIDS/$s.pid" && port_open 127.0.0.1 "${PORT[$s]}"; then
			die "port ${PORT[$s]} for $s is taken by another process"
		fi
		start "$s" env SHOP_TRUSTED_PROXIES=$GATEWAY_PROXY_ADDR "$BIN/$s"
	done
	for s in "${SERVICES[@]}"; do
		if ! wait_for "$s" 90 ready "$s"; then
			tail -n 20 "$LOGS/$s.log" >&2 || true
			die "$s is not ready after 90s; log: $LOGS/$s.log"
		fi
	done
	seed
	gateway
	if ! wait_for gateway 30 ready gateway; then
		tail -n 20 "$LOGS/gateway.log" >&2 || true
		die "the gateway does not answer after 30s; log: $LOGS/gateway.log"
	fi
	cat <<TXT

Shop is up: http://localhost:${PORT[gateway]}
  (the storefront at /, the admin app at /admin/, the API documents at /docs/, the API at /api/v1/)
  Staff: http://localhost:${PORT[gateway]}/admin/ as admin@shop.local / admin-demo-pass (or seller@shop.local / seller-demo-pass)
Logs in $LOGS. Stop with: make down
TXT
}

# seed loads the demo data through each service's own binary (idempotent:
# running it again changes nothing). Identity first: the demo catalog
# belongs to the demo seller. The demo history (past orders, with their
# stock ledger) goes in before inventory's seed, which then leaves the
# products it finds stocked alone.
seed() {
	for s in "${SERVICES[@]}"; do
		if [ "$s" = inventory ]; then
			(cd "$ROOT" && "$BIN/demohistory") >>"$LOGS/seed.log" 2>&1 || die "demo history failed; see $LOGS/seed.log"
		fi
		"$BIN/$s" seed >>"$LOGS/seed.log" 2>&1 || die "$s seed failed; see $LOGS/seed.log"
	done
	if [ -s "$LOGS/seed.log" ]; then grep -h '^demo' "$LOGS/seed.log" | sort -u || true; fi
}

# stop NAME: SIGTERM, wait up to 30s for a graceful exit, then SIGKILL.
stop() {
	local file="$PIDS/$1.pid"
	[ -f "$file" ] || return 0
	local pid; pid=$(cat "$file")
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping $1 (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_for "$1" 30 sh -c "! kill -0 $pid 2>/dev/null"; then
			log "$1 did not stop in 30s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$file"
}

down() {
	stop gateway
	for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop "${SERVICES[$i]}"; done
	stop broker
	stop redis
	if [ -f "$PIDS/postgres.datadir" ]; then
		local data; data=$(cat "$PIDS/postgres.datadir")
		local bindir; bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
		log "stopping PostgreSQL ($data)"
		if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$bindir/pg_ctl -D '$data' -m fast -w stop" >/dev/null
		else "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
		rm -f "$PIDS/postgres.datadir"
	fi
	log "stopped"
}

status() {
	for name in broker "${SERVICES[@]}" gateway; do
		if pid_alive "$PIDS/$name.pid"; then
			state="running (pid $(cat "$PIDS/$name.pid"))"
			if [ "$name" != broker ]; then ready "$name" && state="$state, ready" || state="$state, NOT ready"; fi
		else
			state="stopped"
		fi
		printf '%-10s %s\n' "$name" "$state"
	done
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
