#!/bin/sh
# Load test of gpushare-extender: filter + prioritize (alternating) with NodeNames on kept-alive
# connections, N nodes loaded offline with --nodes.  Prints wrk's latency distribution and the
# extender's CPU time per request (from /proc, so other load on the machine does not count).
#   bench/wrk/run.sh 1000 [connections] [seconds]     (needs build/examples/gpushare-extender, wrk)
set -eu
N=${1:-1000}; C=${2:-1}; D=${3:-15}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$HERE/../..
TMP=$(mktemp -d); trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
/usr/bin/python3 "$HERE/nodes.py" "$N" > "$TMP/nodes.json"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ROOT/build/examples/gpushare-extender" --nodes "$TMP/nodes.json" --port "$PORT" --binds "$TMP/binds.jsonl" \
  --in-cluster=false 2> "$TMP/log" & PID=$!
until curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null; do sleep 0.1; done
ticks() { awk '{print $14+$15}' /proc/$PID/stat; }
A=$(ticks)
wrk -t1 -c"$C" -d"${D}s" --latency -s "$HERE/extender.lua" "http://127.0.0.1:$PORT" -- "$N" | tee "$TMP/wrk"
B=$(ticks)
REQS=$(awk '/requests in/ {print $1}' "$TMP/wrk")
echo "extender CPU per request: $(awk -v t=$((B - A)) -v r="$REQS" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f ms", 1000 * t / hz / r}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
