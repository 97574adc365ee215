#!/usr/bin/env bash
# govulncheck for `make test`, offline: the vulnerability database is built from a pinned
# golang.org/x/vulndb module version (served by the Go module proxy; the default database
# host is not reachable everywhere) with that module's own converter, cmd/indexdb, into the
# v1 format that `govulncheck -db file://DIR` reads. A vulnerability of a third-party module
# that the code reaches fails; one of the standard library of the Go running the tests is
# reported with the release that fixes it (scripts/vulncheck decides, and checks that the
# Dockerfile's builder has those fixes). Prints one summary line; VERBOSE=1 for details.
#
# Usage: scripts/govulncheck.sh [PACKAGES...]   (default ./...)
# To move the database on: pick a newer pseudo-version from
#   https://proxy.golang.org/golang.org/x/vulndb/@v/list
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK_VERSION=v1.10.0
GO=${GO:-go}

db="${XDG_CACHE_HOME:-$HOME/.cache}/ordergate/vulndb-$VULNDB_VERSION"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$db/index/modules.json" ]; then
	# Outside the module, so that go.mod and go.sum are not touched.
	src=$(cd / && GOFLAGS=-mod=mod $GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
		echo "govulncheck: FAIL: cannot download golang.org/x/vulndb@$VULNDB_VERSION from the module proxy" >&2
		exit 1
	fi
	(cd / && $GO run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$tmp/db") >"$tmp/log" 2>&1 || {
		echo "govulncheck: FAIL: building the database from golang.org/x/vulndb@$VULNDB_VERSION:" >&2
		cat "$tmp/log" >&2
		exit 1
	}
	mkdir -p "$(dirname "$db")"
	rm -rf "$db"
	mv "$tmp/db" "$db"
fi

out=$tmp/govulncheck.json
if ! $GO run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$db" -format json "${@:-./...}" >"$out" 2>"$tmp/err"; then
	echo "govulncheck: FAIL: govulncheck did not run:" >&2
	cat "$tmp/err" >&2
	exit 1
fi
flags=()
[ -n "${VERBOSE:-}" ] && flags+=(-v)
$GO run ./scripts/vulncheck "${flags[@]}" <"$out"
