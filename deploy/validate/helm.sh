#!/bin/sh
# helm.sh prints the path of the Helm binary the validation uses: the
# project's own .bin/helm, built from source with `go install` (pinned below)
# the first time, or when it is of another version. `make test` and the
# chart tests (deploy/validate) call it; nothing is downloaded but Go modules.
set -eu
module=helm.sh/helm/v4
version=v4.3.2
root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
bin="$root/.bin/helm"
if [ ! -x "$bin" ] || ! go version -m "$bin" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+$module[[:space:]]+$version([[:space:]]|\$)"; then
	echo "helm.sh: building $module/cmd/helm@$version into $root/.bin (once; about 2 to 8 minutes)" >&2
	mkdir -p "$root/.bin"
	(cd "$root" && GOBIN="$root/.bin" GOWORK=off GOFLAGS= go install "$module/cmd/helm@$version")
fi
echo "$bin"
