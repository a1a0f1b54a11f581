#!/bin/sh
# Builds the gateway's /docs/ directory: Swagger UI from the swagger-ui-dist
# npm package pinned in frontend/package.json (`npm ci --prefix frontend`
# installs it; no copy of it is kept in git), our initializer listing the
# five services, and their OpenAPI documents under specs/.
#
#   deploy/gateway/docs.sh OUT_DIR
#
# SWAGGER_UI_DIST overrides where the package is (default: the repository's
# frontend/node_modules/swagger-ui-dist). `make up`, the tests, the stack
# launcher and the gateway's image build all run it.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH='' cd -- "$here/../.." && pwd)
out=${1:-}
if [ -z "$out" ]; then
	echo "usage: $0 OUT_DIR" >&2
	exit 2
fi
dist=${SWAGGER_UI_DIST:-$root/frontend/node_modules/swagger-ui-dist}
if [ ! -f "$dist/swagger-ui-bundle.js" ]; then
	echo "docs: Swagger UI is not installed at $dist; run: npm ci --prefix frontend (make deps does)" >&2
	exit 1
fi

mkdir -p "$out/specs"
for f in index.html index.css swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js \
	favicon-16x16.png favicon-32x32.png LICENSE NOTICE; do
	cp "$dist/$f" "$out/$f"
done
cp "$here/docs/swagger-initializer.js" "$out/swagger-initializer.js"
for s in identity catalog inventory order payment; do
	cp "$root/services/$s/api/openapi.yaml" "$out/specs/$s.yaml"
done
