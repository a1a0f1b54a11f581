#!/bin/sh
# The gateway image's entrypoint: render the configuration from the
# SHOP_GATEWAY_* variables (deploy/gateway/render.sh, the one renderer) into
# the writable state directory, then run nginx in the foreground.
set -eu
state=${SHOP_GATEWAY_STATE_DIR:-/tmp/shop-gateway}
/usr/share/shop/gateway/render.sh "$state/conf"
exec nginx -e stderr -c "$state/conf/nginx.conf"
