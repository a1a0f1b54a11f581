#!/bin/sh
# gobuild.sh SERVICE OUTPUT builds services/SERVICE/cmd/SERVICE the way the
# images ship it: a static binary (no cgo), -trimpath, from the service's own
# module (its go.mod and go.sum, not the workspace), stamped with VERSION and
# REVISION. The Dockerfile runs it, and so does the validation test
# (deploy/validate), so the two cannot build differently.
# GOOS and GOARCH pass through (the Dockerfile sets them for cross builds).
set -eu
service=$1
out=$2
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
cd "$(dirname "$0")/../../services/$service"
CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local \
	go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X github.com/shop-oss/shop/pkg/buildinfo.Version=${VERSION:-dev} -X github.com/shop-oss/shop/pkg/buildinfo.Revision=${REVISION:-unknown}" \
	-o "$out" "./cmd/$service"
