#!/usr/bin/env bash
# The frontend (frontend/: an npm workspace): its packages, build, tests and
# dev server. The API types are generated from the services' OpenAPI
# documents before every typecheck, test and build (frontend/shared/scripts/
# gen-api.mjs); they are not committed.
#
#   scripts/web.sh build   npm ci when needed, build the storefront and the admin app
#                          (frontend/storefront/dist, frontend/admin/dist)
#   scripts/web.sh test    npm ci, typecheck, component tests, build, browser tests
#                          (Chromium from Debian, installed when missing; the
#                          browser tests start their own stack behind the gateway)
#   scripts/web.sh dev     Vite's dev server against a running stack
#                          (SHOP_GATEWAY_URL, default http://127.0.0.1:8080)
#   scripts/web.sh dev-admin  the same for the admin app (port SHOP_ADMIN_DEV_PORT, 5174)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT/frontend"

command -v npm >/dev/null || die "Node.js 20 and npm are needed for the frontend"

# packages installs exactly the lockfile, unless node_modules already matches it.
packages() {
	if [ "${1:-}" = clean ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		log "frontend: npm ci"
		npm ci --no-audit --no-fund
	fi
}

case "${1:-}" in
build)
	packages
	log "frontend: building the storefront and the admin app"
	npm run build --silent
	;;
test)
	"$ROOT/scripts/deps.sh" chromium
	packages clean
	log "frontend: typecheck"
	npm run typecheck --silent
	log "frontend: component tests"
	npm test --silent
	log "frontend: building the storefront and the admin app"
	npm run build --silent
	log "frontend: browser tests (screenshots in frontend/e2e/screenshots/)"
	npm run e2e --silent
	;;
dev)
	packages
	log "frontend: Vite at http://127.0.0.1:${SHOP_DEV_PORT:-5173}, /api to ${SHOP_GATEWAY_URL:-http://127.0.0.1:8080}"
	exec npm run dev
	;;
dev-admin)
	packages
	log "frontend: Vite at http://127.0.0.1:${SHOP_ADMIN_DEV_PORT:-5174}/admin/, /api to ${SHOP_GATEWAY_URL:-http://127.0.0.1:8080}"
	exec npm run dev:admin
	;;
*)
	die "usage: scripts/web.sh build|test|dev|dev-admin"
	;;
esac
