#!/bin/sh
# Builds the six images (the five services and the gateway) with Docker or
# Podman, from the repository's root, tagged <IMAGE_PREFIX><name>:<VERSION>:
#
#   make images                                   # shop-oss/shop-identity:<git describe>, ...
#   make images VERSION=1.0.0 IMAGE_PREFIX=registry.example.com/shop/
#
# CONTAINER_ENGINE picks the engine (default: docker, else podman). The
# images carry their version, revision and build time as OCI labels.
set -eu
cd "$(dirname "$0")/../.."
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
	for e in docker podman; do
		if command -v "$e" >/dev/null 2>&1; then
			engine=$e
			break
		fi
	done
fi
[ -n "$engine" ] || { echo "images: neither docker nor podman is installed (set CONTAINER_ENGINE)" >&2; exit 1; }
prefix=${IMAGE_PREFIX:-shop-oss/shop-}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
set -- --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created"
for s in identity catalog inventory order payment; do
	echo "images: $prefix$s:$version" >&2
	"$engine" build -f deploy/docker/Dockerfile --build-arg "SERVICE=$s" "$@" -t "$prefix$s:$version" .
done
echo "images: ${prefix}gateway:$version" >&2
"$engine" build -f deploy/docker/gateway.Dockerfile "$@" -t "${prefix}gateway:$version" .
