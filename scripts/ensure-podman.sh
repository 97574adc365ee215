#!/usr/bin/env bash
# Makes sure podman and runc are installed for the image test (tests/deploy) and prints podman's
# path: uses the ones installed, else installs Debian's packages (about a minute). No Docker
# engine is needed: the test builds the Dockerfile's final stage FROM scratch and runs it as root
# with runc (crun fails on RLIMIT_NPROC here).
#
# Exit status 0: podman is ready (its path on stdout). 77: it cannot be installed on this machine
# (no apt-get, or neither root nor sudo); the test then skips with this script's message. Any
# other status is a failure (the package install itself failed).
set -euo pipefail

if podman=$(command -v podman 2>/dev/null) && command -v runc >/dev/null 2>&1; then
	echo "$podman"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-podman: podman or runc not found and no apt-get here: install podman (4.3 or later) and runc" >&2
	exit 77
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
		echo "ensure-podman: podman or runc not found, and installing them needs root (no password-less sudo here)" >&2
		exit 77
	fi
	sudo="sudo -n"
fi

echo "ensure-podman: installing Debian's podman and runc packages" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends podman runc >/dev/null

if ! podman=$(command -v podman 2>/dev/null); then
	echo "ensure-podman: the podman package is installed but podman is not on PATH" >&2
	exit 1
fi
echo "$podman"
