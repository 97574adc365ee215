#!/usr/bin/env bash
# Makes sure a Redis answers at 127.0.0.1:6379 (or ORDERGATE_TEST_REDIS_PORT) for the tests:
# uses the one running, else starts redis-server (installing Debian's package first when it
# is missing). What the tests start, they stop: with --until-exit PID, a Redis started here
# is shut down once process PID has ended (the Makefile passes its own make), even after a
# failure or Ctrl-C; a Redis that was already running is left alone.
set -euo pipefail

host=127.0.0.1
port=${ORDERGATE_TEST_REDIS_PORT:-6379}
owner=""
if [ "${1:-}" = "--until-exit" ]; then
	owner=${2:?--until-exit needs a process id}
fi
dir="${TMPDIR:-/tmp}"
pidfile="$dir/ordergate-test-redis-$port.pid"
logfile="$dir/ordergate-test-redis-$port.log"

ping() {
	# Speak RESP directly so that redis-cli is not needed.
	exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
	printf 'PING\r\n' >&3
	local reply=""
	read -r -t 2 reply <&3 || true
	exec 3>&-
	[[ "$reply" == +PONG* ]]
}

# The cluster and Sentinel suites start servers of their own with redis-server and
# redis-cli, even when a Redis already answers here.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "ensure-redis: redis-server or redis-cli not found; installing Debian's redis-server and redis-tools packages" >&2
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
fi

if ping; then
	exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
	echo "ensure-redis: redis-server not found; installing Debian's redis-server package" >&2
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

echo "ensure-redis: starting redis-server on $host:$port" >&2
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
	--pidfile "$pidfile" --logfile "$logfile" >/dev/null
for _ in $(seq 1 50); do
	if ping && [ -s "$pidfile" ]; then
		if [ -n "$owner" ]; then
			pid=$(cat "$pidfile")
			# The watcher has a session of its own: a Ctrl-C to make does not reach it.
			setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
				kill "$2" 2>/dev/null || true
				rm -f "$3"' ensure-redis-watch "$owner" "$pid" "$pidfile" </dev/null >/dev/null 2>&1 &
			echo "ensure-redis: it stops when process $owner ends (redis-server pid $pid)" >&2
		fi
		exit 0
	fi
	sleep 0.1
done
echo "ensure-redis: redis-server did not answer on $host:$port (see $logfile)" >&2
exit 1
