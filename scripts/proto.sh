#!/usr/bin/env bash
# Generates the Go code of the event contract (proto-events/) from its .proto
# files, or checks that the committed generated code is up to date.
#
# Usage:
#   scripts/proto.sh gen     regenerate proto-events/eventsv1/*.pb.go
#   scripts/proto.sh check   regenerate into a temp dir and diff against the
#                            committed files; non-zero exit when they differ
#
# Works from any directory. Needs protoc (Debian: protobuf-compiler) and Go;
# protoc-gen-go is pinned to the protobuf runtime version of the module and
# installed into <repo>/.bin when missing, so gen and check produce
# byte-identical output (including the "versions" header).
set -euo pipefail

readonly PROTOC_GEN_GO_VERSION="v1.36.12"
readonly GO_MODULE="github.com/shop-oss/shop/proto-events"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly MODULE_DIR="$ROOT/proto-events"
readonly PROTO_DIR="$MODULE_DIR/proto"
readonly OUT_PKG="eventsv1" # generated files land in $MODULE_DIR/$OUT_PKG
readonly BIN_DIR="$ROOT/.bin"
readonly PLUGIN="$BIN_DIR/protoc-gen-go"

die() {
	echo "proto.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 gen|check" >&2
	exit 2
}

ensure_protoc() {
	if ! command -v protoc >/dev/null 2>&1; then
		die "protoc not found; install it with: apt-get update && apt-get install -y protobuf-compiler"
	fi
}

ensure_plugin() {
	if [[ -x "$PLUGIN" ]] && [[ "$("$PLUGIN" --version 2>/dev/null)" == "protoc-gen-go $PROTOC_GEN_GO_VERSION" ]]; then
		return
	fi
	command -v go >/dev/null 2>&1 || die "go not found; it is needed to install protoc-gen-go"
	echo "proto.sh: installing protoc-gen-go@$PROTOC_GEN_GO_VERSION into $BIN_DIR" >&2
	mkdir -p "$BIN_DIR"
	GOBIN="$BIN_DIR" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
}

# generate OUT_ROOT: writes the generated files to OUT_ROOT/$OUT_PKG.
generate() {
	local out_root="$1"
	local -a protos
	# Paths relative to the include root, in a fixed order: they are recorded
	# in the generated files ("source: shop/events/v1/...").
	mapfile -t protos < <(cd "$PROTO_DIR" && find . -name '*.proto' -type f | sed 's|^\./||' | LC_ALL=C sort)
	((${#protos[@]} > 0)) || die "no .proto files under $PROTO_DIR"
	mkdir -p "$out_root"
	(
		cd "$PROTO_DIR"
		protoc \
			--plugin=protoc-gen-go="$PLUGIN" \
			--proto_path=. \
			--go_out="$out_root" \
			--go_opt=module="$GO_MODULE" \
			"${protos[@]}"
	)
	[[ -d "$out_root/$OUT_PKG" ]] || die "protoc wrote nothing to $OUT_PKG/: check go_package in the .proto files"
}

TMP_DIR=""
cleanup() {
	if [[ -n "$TMP_DIR" ]]; then
		rm -rf "$TMP_DIR"
	fi
}
trap cleanup EXIT

cmd_gen() {
	generate "$TMP_DIR/new"
	# Replace all generated files, so a deleted .proto leaves no stale .pb.go;
	# hand-written files in the package are left alone.
	mkdir -p "$MODULE_DIR/$OUT_PKG"
	rm -f "$MODULE_DIR/$OUT_PKG"/*.pb.go
	cp "$TMP_DIR/new/$OUT_PKG"/*.pb.go "$MODULE_DIR/$OUT_PKG/"
	echo "proto.sh: generated $(find "$TMP_DIR/new/$OUT_PKG" -name '*.pb.go' | wc -l) files into proto-events/$OUT_PKG"
}

cmd_check() {
	generate "$TMP_DIR/new"
	mkdir -p "$TMP_DIR/committed"
	if compgen -G "$MODULE_DIR/$OUT_PKG/*.pb.go" >/dev/null; then
		cp "$MODULE_DIR/$OUT_PKG"/*.pb.go "$TMP_DIR/committed/"
	fi
	mv "$TMP_DIR/new/$OUT_PKG" "$TMP_DIR/regenerated"
	if (cd "$TMP_DIR" && diff -ru committed regenerated) >"$TMP_DIR/diff" 2>&1; then
		echo "proto.sh: generated code is up to date"
		return
	fi
	head -n 200 "$TMP_DIR/diff" >&2
	local want have
	want="$(grep -h -m1 -o 'protoc  *v[0-9.]*' "$MODULE_DIR/$OUT_PKG"/*.pb.go 2>/dev/null | head -n1 | awk '{print $2}' || true)"
	have="v$(protoc --version | awk '{print $2}')"
	if [[ -n "$want" && "$want" != "$have" ]]; then
		echo "proto.sh: note: committed code names protoc $want, this machine has protoc $have" >&2
	fi
	die "generated code is stale: run make proto"
}

main() {
	(($# == 1)) || usage
	case "$1" in
	gen | check) ;;
	*) usage ;;
	esac
	ensure_protoc
	ensure_plugin
	TMP_DIR="$(mktemp -d "${TMPDIR:-/tmp}/proto.XXXXXX")"
	"cmd_$1"
}

main "$@"
