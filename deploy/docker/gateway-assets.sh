#!/bin/sh
# gateway-assets.sh OUT_DIR builds what the gateway image serves (the
# gateway image's build stage runs it):
#
#   npm ci in frontend/, then the build of every workspace that has one
#   OUT_DIR/storefront  frontend/storefront/dist (the placeholder page while
#   OUT_DIR/admin       frontend/admin/dist       that app does not exist yet)
#   OUT_DIR/docs        Swagger UI and the services' OpenAPI documents (deploy/gateway/docs.sh)
#
# An app that exists (it has a package.json) but ends up without
# dist/index.html fails the build.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH='' cd -- "$here/../.." && pwd)
out=${1:?usage: gateway-assets.sh OUT_DIR}

cd "$root/frontend"
npm ci --no-audit --no-fund
if grep -q '"workspaces"' package.json; then
	npm run build --workspaces --if-present
fi
cd "$root"

mkdir -p "$out"
for app in storefront admin; do
	if [ -f "frontend/$app/package.json" ]; then
		[ -f "frontend/$app/dist/index.html" ] || { echo "gateway-assets: frontend/$app/dist/index.html is missing after its build" >&2; exit 1; }
		cp -R "frontend/$app/dist" "$out/$app"
	else
		cp -R "deploy/gateway/placeholder/$app" "$out/$app"
	fi
done
deploy/gateway/docs.sh "$out/docs"
