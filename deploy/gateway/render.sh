#!/bin/sh
# Renders the gateway's nginx configuration: the only renderer of
# nginx.conf.template. `make up`, the tests and the stack launcher
# (scripts/internal/gateway), and the gateway's container image at start all
# run it; they differ only in the SHOP_GATEWAY_* values they set.
#
#   deploy/gateway/render.sh OUT_DIR
#
# writes OUT_DIR/nginx.conf and OUT_DIR/gateway.js (the njs helpers) and
# creates SHOP_GATEWAY_STATE_DIR. Then: nginx -c OUT_DIR/nginx.conf (it runs
# in the foreground: `daemon off`). The variables and their defaults are in
# deploy/gateway/README.md. A bad value stops it with a message naming the
# variable and exit status 1. POSIX sh and envsubst (gettext-base) only, so
# that it runs in the official nginx image and in debian:12-slim alike.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
out=${1:-}
if [ -z "$out" ]; then
	echo "usage: $0 OUT_DIR" >&2
	exit 2
fi
command -v envsubst >/dev/null || { echo "render: envsubst is missing (Debian: gettext-base)" >&2; exit 1; }

fail() { echo "render: $*" >&2; exit 1; }

# Defaults: the contract's ports on loopback, the image's paths.
: "${SHOP_GATEWAY_LISTEN:=8080}"
: "${SHOP_GATEWAY_IDENTITY_ADDR:=127.0.0.1:8081}"
: "${SHOP_GATEWAY_CATALOG_ADDR:=127.0.0.1:8082}"
: "${SHOP_GATEWAY_INVENTORY_ADDR:=127.0.0.1:8083}"
: "${SHOP_GATEWAY_ORDER_ADDR:=127.0.0.1:8084}"
: "${SHOP_GATEWAY_PAYMENT_ADDR:=127.0.0.1:8085}"
: "${SHOP_GATEWAY_STOREFRONT_ROOT:=/usr/share/shop/storefront}"
: "${SHOP_GATEWAY_ADMIN_ROOT:=/usr/share/shop/admin}"
: "${SHOP_GATEWAY_DOCS_ROOT:=/usr/share/shop/docs}"
: "${SHOP_GATEWAY_EDGE_AUTH:=on}"
: "${SHOP_GATEWAY_AUTH_CACHE_TTL:=5s}"
: "${SHOP_GATEWAY_TRUSTED_NETWORKS:=}"
: "${SHOP_GATEWAY_PROXY_BIND:=off}"
: "${SHOP_GATEWAY_API_RATE:=50r/s}"
: "${SHOP_GATEWAY_API_BURST:=100}"
: "${SHOP_GATEWAY_AUTH_RATE:=30r/m}"
: "${SHOP_GATEWAY_AUTH_BURST:=10}"
: "${SHOP_GATEWAY_BODY_LIMIT:=1m}"
: "${SHOP_GATEWAY_READ_TIMEOUT:=60s}"
: "${SHOP_GATEWAY_STREAM_TIMEOUT:=1h}"
: "${SHOP_GATEWAY_HSTS:=}"
: "${SHOP_GATEWAY_WORKERS:=auto}"
: "${SHOP_GATEWAY_USER:=}"
: "${SHOP_GATEWAY_STATE_DIR:=/tmp/shop-gateway}"
: "${SHOP_GATEWAY_ACCESS_LOG:=/dev/stdout}"
: "${SHOP_GATEWAY_ERROR_LOG:=/dev/stderr}"
: "${SHOP_GATEWAY_NJS_MODULE:=/usr/lib/nginx/modules/ngx_http_js_module.so}"

# match VALUE ERE: does VALUE match the extended regular expression?
match() { printf '%s\n' "$1" | grep -Eqx -- "$2"; }

time_re='[0-9]+(ms|s|m|h|d)?'
for name in SHOP_GATEWAY_IDENTITY_ADDR SHOP_GATEWAY_CATALOG_ADDR SHOP_GATEWAY_INVENTORY_ADDR \
	SHOP_GATEWAY_ORDER_ADDR SHOP_GATEWAY_PAYMENT_ADDR; do
	eval "v=\$$name"
	match "$v" '[A-Za-z0-9._-]+:[0-9]+|\[[0-9A-Fa-f:.]+\]:[0-9]+|unix:/[^ ;]+' || fail "$name: want host:port, got '$v'"
done
match "$SHOP_GATEWAY_LISTEN" '([0-9.]+:|\[[0-9A-Fa-f:]+\]:)?[0-9]+' || fail "SHOP_GATEWAY_LISTEN: want PORT or ADDRESS:PORT, got '$SHOP_GATEWAY_LISTEN'"
case $SHOP_GATEWAY_EDGE_AUTH in
on) _SHOP_GATEWAY_AUTH=/_shop/auth ;;
off) _SHOP_GATEWAY_AUTH=off ;;
*) fail "SHOP_GATEWAY_EDGE_AUTH: want on or off, got '$SHOP_GATEWAY_EDGE_AUTH'" ;;
esac
for name in SHOP_GATEWAY_AUTH_CACHE_TTL SHOP_GATEWAY_READ_TIMEOUT SHOP_GATEWAY_STREAM_TIMEOUT; do
	eval "v=\$$name"
	match "$v" "$time_re" || fail "$name: want an nginx time such as 5s or 1h, got '$v'"
done
for name in SHOP_GATEWAY_API_RATE SHOP_GATEWAY_AUTH_RATE; do
	eval "v=\$$name"
	match "$v" '[1-9][0-9]*r/[sm]' || fail "$name: want N r/s or N r/m such as 50r/s, got '$v'"
done
for name in SHOP_GATEWAY_API_BURST SHOP_GATEWAY_AUTH_BURST; do
	eval "v=\$$name"
	match "$v" '[1-9][0-9]*' || fail "$name: want a whole number of at least 1, got '$v'"
done
match "$SHOP_GATEWAY_BODY_LIMIT" '[0-9]+[kKmMgG]?' || fail "SHOP_GATEWAY_BODY_LIMIT: want a size such as 1m, got '$SHOP_GATEWAY_BODY_LIMIT'"
match "$SHOP_GATEWAY_WORKERS" 'auto|[1-9][0-9]*' || fail "SHOP_GATEWAY_WORKERS: want auto or a number, got '$SHOP_GATEWAY_WORKERS'"
match "$SHOP_GATEWAY_PROXY_BIND" 'off|[0-9.]+|[0-9A-Fa-f:]+' || fail "SHOP_GATEWAY_PROXY_BIND: want off or an IP address, got '$SHOP_GATEWAY_PROXY_BIND'"
case $SHOP_GATEWAY_HSTS in *\"* | *\;\;*) fail "SHOP_GATEWAY_HSTS: want a header value such as 'max-age=31536000; includeSubDomains'" ;; esac
for name in SHOP_GATEWAY_STOREFRONT_ROOT SHOP_GATEWAY_ADMIN_ROOT SHOP_GATEWAY_DOCS_ROOT; do
	eval "v=\$$name"
	[ -f "$v/index.html" ] || fail "$name: $v has no index.html"
done
[ -f "$SHOP_GATEWAY_NJS_MODULE" ] || fail "SHOP_GATEWAY_NJS_MODULE: $SHOP_GATEWAY_NJS_MODULE is missing (Debian: libnginx-mod-http-js; the official nginx image ships it)"

# Values computed from the ones above (placeholders starting with _).
_SHOP_GATEWAY_USER_LINE=
[ -z "$SHOP_GATEWAY_USER" ] || _SHOP_GATEWAY_USER_LINE="user $SHOP_GATEWAY_USER;"
_SHOP_GATEWAY_REAL_IP_FROM=
for net in $(printf '%s' "$SHOP_GATEWAY_TRUSTED_NETWORKS" | tr ',' ' '); do
	match "$net" '[0-9.]+(/[0-9]+)?|[0-9A-Fa-f:]+(/[0-9]+)?' || fail "SHOP_GATEWAY_TRUSTED_NETWORKS: '$net' is not an address or CIDR"
	_SHOP_GATEWAY_REAL_IP_FROM="$_SHOP_GATEWAY_REAL_IP_FROM set_real_ip_from $net;"
done
# retry_after RATE: the Retry-After of the edge's 429 at that rate, one
# request's interval in whole seconds (at least 1).
retry_after() {
	n=${1%%r/*}
	case $1 in
	*r/m) echo $(((60 + n - 1) / n)) ;;
	*) echo 1 ;;
	esac
}
_SHOP_GATEWAY_API_RETRY_AFTER=$(retry_after "$SHOP_GATEWAY_API_RATE")
_SHOP_GATEWAY_AUTH_RETRY_AFTER=$(retry_after "$SHOP_GATEWAY_AUTH_RATE")

mkdir -p "$out" "$SHOP_GATEWAY_STATE_DIR/cache"
out=$(CDPATH='' cd -- "$out" && pwd)
cp "$here/gateway.js" "$out/gateway.js"
_SHOP_GATEWAY_JS="$out/gateway.js"

# The placeholders: only these names are replaced; every other $ is nginx's.
names="SHOP_GATEWAY_LISTEN SHOP_GATEWAY_IDENTITY_ADDR SHOP_GATEWAY_CATALOG_ADDR SHOP_GATEWAY_INVENTORY_ADDR
	SHOP_GATEWAY_ORDER_ADDR SHOP_GATEWAY_PAYMENT_ADDR SHOP_GATEWAY_STOREFRONT_ROOT SHOP_GATEWAY_ADMIN_ROOT
	SHOP_GATEWAY_DOCS_ROOT SHOP_GATEWAY_AUTH_CACHE_TTL SHOP_GATEWAY_PROXY_BIND SHOP_GATEWAY_API_RATE
	SHOP_GATEWAY_API_BURST SHOP_GATEWAY_AUTH_RATE SHOP_GATEWAY_AUTH_BURST SHOP_GATEWAY_BODY_LIMIT
	SHOP_GATEWAY_READ_TIMEOUT SHOP_GATEWAY_STREAM_TIMEOUT SHOP_GATEWAY_HSTS SHOP_GATEWAY_WORKERS
	SHOP_GATEWAY_STATE_DIR SHOP_GATEWAY_ACCESS_LOG SHOP_GATEWAY_ERROR_LOG SHOP_GATEWAY_NJS_MODULE
	_SHOP_GATEWAY_USER_LINE _SHOP_GATEWAY_REAL_IP_FROM _SHOP_GATEWAY_AUTH _SHOP_GATEWAY_API_RETRY_AFTER _SHOP_GATEWAY_AUTH_RETRY_AFTER
	_SHOP_GATEWAY_JS"
list=
for n in $names; do
	export "${n?}"
	list="$list \${$n}"
done
envsubst "$list" <"$here/nginx.conf.template" >"$out/nginx.conf.tmp"
mv "$out/nginx.conf.tmp" "$out/nginx.conf"
