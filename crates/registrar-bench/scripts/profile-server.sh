#!/bin/sh
# Profiles the registrar server of a registrar-bench run: starts the bench with the arguments
# given, waits WAIT seconds (default 8, past the setup and warm-up), records the server for SECS
# seconds (default 8) with DWARF call graphs, then prints where its core went.
#   crates/registrar-bench/scripts/profile-server.sh OUT_DIR run register -c 64 -d 20s --limits raised
set -eu
out=$1; shift
here=$(dirname "$0")
bench=${BENCH:-target/release/registrar-bench}
mkdir -p "$out"
"$bench" "$@" > "$out/bench.txt" 2>&1 &
bench_pid=$!
pid=""
for _ in $(seq 1 120); do
  pid=$(pgrep -f "registrar --config .* serve" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.5
done
[ -n "$pid" ] || { echo "no registrar server started" >&2; exit 1; }
sleep "${WAIT:-8}"
perf record -F 1999 --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep "${SECS:-8}" > /dev/null 2>&1
wait "$bench_pid"
perf script -i "$out/perf.data" -F comm,ip,sym,dso 2>/dev/null | python3 "$here/perf_categories.py"
