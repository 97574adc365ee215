#!/usr/bin/env bash
# Makes sure helm (the version the chart's tests pin) is installed and prints its path, for the
# tests of deploy/helm/ordergate (tests/deploy). helm is not a Debian package: it is built from
# the Go module proxy once (about 2 minutes on 2 cores) into $(go env GOPATH)/bin/helm-VERSION,
# so that a second run is instant and another helm on PATH is left alone.
set -euo pipefail

version=${ORDERGATE_HELM_VERSION:-v4.3.2}
major=${version%%.*}
go=${GO:-go}
bin="$($go env GOPATH)/bin"
path="$bin/helm-$version"

if [ -x "$path" ]; then
	echo "$path"
	exit 0
fi

echo "ensure-helm: building helm $version from the Go module proxy (about 2 minutes, once)" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# go install writes $GOBIN/helm: build into a private GOBIN, then move it under its versioned name.
# The version is stamped the way helm's own release build does, so `helm version` tells the truth.
GOBIN="$tmp" CGO_ENABLED=0 $go install \
	-ldflags "-s -w -X helm.sh/helm/$major/internal/version.version=$version" \
	"helm.sh/helm/$major/cmd/helm@$version" >&2
mkdir -p "$bin"
mv "$tmp/helm" "$path"
echo "$path"
