#!/usr/bin/env bash
# Fails, listing them, when gofmt would change any Go file of the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')
out=$(gofmt -l $files)
if [ -n "$out" ]; then
	echo "gofmt would change:"
	echo "$out"
	exit 1
fi
