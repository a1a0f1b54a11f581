#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what the stack and the tests
# need, when it is missing: PostgreSQL on 127.0.0.1:5432 with trust auth,
# Redis on 127.0.0.1:6379, nginx with its njs module, wrk, protoc and
# Prometheus (promtool; it does not start it); and
# the frontend's npm packages (Swagger UI for the gateway's /docs/). Servers that already answer are
# used as they are. What this script starts is recorded under .local/pids so
# that `make down` stops exactly that.
#
#   scripts/deps.sh           servers and tools
#   scripts/deps.sh chromium  also Chromium for the browser tests
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$LOGS" "$PIDS"

missing=()
command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ] || missing+=(libnginx-mod-http-js)
command -v wrk >/dev/null || missing+=(wrk)
command -v envsubst >/dev/null || missing+=(gettext-base)
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v pg_isready >/dev/null || missing+=(postgresql-client)
command -v promtool >/dev/null || missing+=(prometheus) # the alert rules' tests, make obs-up
if [ "${1:-}" = chromium ] && ! command -v chromium >/dev/null; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL: use a server already on 5432, else run our own cluster.
if port_open 127.0.0.1 5432; then
	log "PostgreSQL: using the server on 127.0.0.1:5432"
else
	bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
	data="$LOCAL/postgres"
	run_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
	if [ ! -f "$data/PG_VERSION" ]; then
		log "PostgreSQL: creating a cluster in $data (trust auth on loopback)"
		mkdir -p "$data"
		[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
		run_pg "$bindir/initdb -D '$data' -U postgres --auth=trust --encoding=UTF8 >/dev/null"
	fi
	sock="$LOCAL/postgres-socket"
	mkdir -p "$sock"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$sock" && chown postgres:postgres "$LOGS"
	log "PostgreSQL: starting on 127.0.0.1:5432"
	run_pg "$bindir/pg_ctl -D '$data' -l '$LOGS/postgres.log' -o \"-c listen_addresses=127.0.0.1 -p 5432 -k $sock\" -w start >/dev/null"
	echo "$data" >"$PIDS/postgres.datadir"
fi

# Redis: use a server already on 6379, else start one.
if port_open 127.0.0.1 6379; then
	log "Redis: using the server on 127.0.0.1:6379"
else
	log "Redis: starting on 127.0.0.1:6379"
	redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes \
		--pidfile "$PIDS/redis.pid" --logfile "$LOGS/redis.log" --dir "$LOCAL"
	wait_for redis 10 redis-cli -h 127.0.0.1 -p 6379 ping || die "Redis did not start; see $LOGS/redis.log"
fi
wait_for postgres 30 pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL does not answer on 127.0.0.1:5432"

# The frontend's npm packages (the lockfile's versions), when missing or
# older than the lockfile.
stamp="$ROOT/frontend/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$ROOT/frontend/package-lock.json" -nt "$stamp" ]; then
	command -v npm >/dev/null || die "npm is missing: install Node.js 20 or newer"
	log "npm ci in frontend/"
	npm ci --prefix "$ROOT/frontend" --no-audit --no-fund >/dev/null
fi
