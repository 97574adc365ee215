#!/usr/bin/env bash
# Makes sure promtool (Prometheus's rule checker) is on PATH for the tests of the alerts
# (tests/operations/alerts_test.go) and prints its path: uses the one installed, else installs Debian's
# prometheus package, which ships /usr/bin/promtool.
set -euo pipefail

if path=$(command -v promtool 2>/dev/null); then
	echo "$path"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-promtool: promtool not found and no apt-get here: install Prometheus's promtool" \
		"(any 2.x or 3.x release) and put it on PATH" >&2
	exit 1
fi

echo "ensure-promtool: promtool not found; installing Debian's prometheus package" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package also enables a Prometheus server; on a machine booted with systemd, stop it:
# only promtool is wanted here (and :9090 stays free for docker-compose.yml's Prometheus).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	$sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

if ! path=$(command -v promtool 2>/dev/null); then
	echo "ensure-promtool: the prometheus package is installed but promtool is not on PATH" >&2
	exit 1
fi
echo "$path"
