#!/usr/bin/env bash
# obs.sh up|down: Prometheus (the Debian package) scraping the local stack of
# `make up` (the services on 127.0.0.1:8081-8085), with the alert rules the
# compose stack and the chart use (charts/shop/files/alerts.yaml).
#
#   scripts/obs.sh up     install prometheus if missing, start it, print its URL
#   scripts/obs.sh down   stop it (its data in .local/obs stays)
#
# SHOP_OBS_PORT sets its port on 127.0.0.1 (default 9090).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OBS="$LOCAL/obs"
PORT="${SHOP_OBS_PORT:-9090}"
PIDFILE="$PIDS/prometheus.pid"

# config writes the scrape configuration: one job per service, named after
# it, as the rules expect (job="order", ...).
config() {
	local ports=(identity:8081 catalog:8082 inventory:8083 order:8084 payment:8085)
	cat <<YAML
# Written by scripts/obs.sh: Prometheus over the local stack of make up.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $ROOT/charts/shop/files/alerts.yaml
scrape_configs:
YAML
	for sp in "${ports[@]}"; do
		printf '  - job_name: %s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "${sp%%:*}" "${sp##*:}"
	done
}

up() {
	if ! command -v prometheus >/dev/null; then
		log "installing prometheus (apt)"
		as_root apt-get install -y prometheus >/dev/null
	fi
	mkdir -p "$OBS/data" "$PIDS" "$LOGS"
	config >"$OBS/prometheus.yml"
	promtool check config "$OBS/prometheus.yml" >/dev/null
	if pid_alive "$PIDFILE"; then
		log "prometheus already running (pid $(cat "$PIDFILE")); reloading its configuration"
		kill -HUP "$(cat "$PIDFILE")"
	else
		port_open 127.0.0.1 "$PORT" && die "127.0.0.1:$PORT is taken (SHOP_OBS_PORT sets another port)"
		prometheus --config.file="$OBS/prometheus.yml" --storage.tsdb.path="$OBS/data" \
			--web.listen-address="127.0.0.1:$PORT" --storage.tsdb.retention.time=7d \
			>"$LOGS/prometheus.log" 2>&1 &
		echo $! >"$PIDFILE"
		wait_for prometheus 30 curl -fsS "http://127.0.0.1:$PORT/-/ready" ||
			die "prometheus did not start; see $LOGS/prometheus.log"
	fi
	port_open 127.0.0.1 8084 || log "the local stack does not answer on :8084 yet (make up); Prometheus keeps trying"
	echo "Prometheus: http://127.0.0.1:$PORT (targets: /targets, alerts: /alerts)"
}

down() {
	if ! pid_alive "$PIDFILE"; then
		rm -f "$PIDFILE"
		log "prometheus is not running"
		return
	fi
	local pid; pid=$(cat "$PIDFILE")
	log "stopping prometheus (pid $pid)"
	kill -TERM "$pid"
	wait_for prometheus 30 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
	rm -f "$PIDFILE"
}

case "${1:-}" in
up) up ;;
down) down ;;
*) die "usage: $0 up|down" ;;
esac
