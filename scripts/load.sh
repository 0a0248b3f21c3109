#!/usr/bin/env bash
# Load test on loopback: the API's preflight and actual routes against a bare axum server
# that answers 204, in the same run; then start-up time and memory after a million requests.
# A third server, the bare one with --same-answers, writes the API's exact answers as
# constants: the difference between it and the API is what the engine, the journal and the
# routing cost, apart from the bytes on the wire.
#
#   scripts/load.sh [seconds-per-run] [rounds]      (defaults: 5 s, 5 rounds)
#
# This machine's speed drifts from one second to the next (a shared VM: the same server
# measured twice in a row can differ by a quarter), so one run of each server says little.
# Each route is measured in rounds; a round runs the three servers one after the other, in an
# order that rotates from round to round, and its ratios compare runs seconds apart. The
# summary gives the median ratio over the rounds, and the lowest and highest.
#
# Bounded: every wrk run lasts the given seconds; everything started here is stopped on exit.
# Traffic goes to 127.0.0.1 only. Needs wrk (Debian's `wrk` package; installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-5}"
ROUNDS="${2:-5}"
CONNECTIONS=32
THREADS=2
SSE_CLIENTS=10
LAB="http://localhost:8080"

if ! command -v wrk >/dev/null 2>&1; then
  echo "load.sh: installing wrk" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -q && $sudo apt-get install -y -q wrk
fi

cargo build --release -q -p api-server --bin api-server --example bare
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a server that prints "listening on ADDR"; sets $addr and appends its pid.
start() {
  local out="$work/$1.out"; shift
  "$@" >"$out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do
    addr=$(grep -o 'listening on [0-9.:]*' "$out" | head -1 | cut -d' ' -f3 || true)
    [ -n "$addr" ] && return 0
    sleep 0.05
  done
  echo "load.sh: $1 did not start" >&2; exit 1
}

cat >"$work/preflight.lua" <<LUA
wrk.method = "OPTIONS"
wrk.headers["Origin"] = "$LAB"
wrk.headers["Access-Control-Request-Method"] = "PUT"
wrk.headers["Access-Control-Request-Headers"] = "content-type,x-token"
LUA
cat >"$work/actual.lua" <<LUA
wrk.method = "GET"
wrk.headers["Origin"] = "$LAB"
LUA

# wrk's summary → "rps p99"
measure() {
  local url="$1" script="$2"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$script" "$url" >"$work/wrk.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  echo "$rps $p99"
}

start bare ./target/release/examples/bare 127.0.0.1:0
bare="http://$addr"
start same ./target/release/examples/bare 127.0.0.1:0 --same-answers
same="http://$addr"
RUST_LOG=warn start api env LAB_API_LISTEN=127.0.0.1:0 LAB_TRUSTED_ORIGIN="$LAB" ./target/release/api-server
api="http://$addr"
api_pid=${pids[-1]}
for _ in $(seq "$SSE_CLIENTS"); do
  curl -sN "$api/_lab/events" >/dev/null &
  pids+=($!)
done

echo "== load: $ROUNDS rounds of ${SECONDS_PER_RUN}s runs, $THREADS threads, $CONNECTIONS connections, journal on, $SSE_CLIENTS SSE clients attached"
printf '%-22s %5s %12s %9s %12s %9s %12s %9s %10s %10s\n' route round "api req/s" "api p99" "bare req/s" \
  "bare p99" "same req/s" "same p99" "api÷bare" "api÷same"
# Median, lowest and highest of the numbers on stdin: "median (low–high)".
spread() { sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
  printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'; }
declare -A summary
for route in preflight actual; do
  if [ "$route" = preflight ]; then path=/api/items/1; else path=/api/items; fi
  : >"$work/$route.ratios"
  for round in $(seq "$ROUNDS"); do
    servers=(api bare same)
    # Rotate the order, so that no server always runs first (or last) in a round.
    shift_by=$(( (round - 1) % 3 ))
    order=("${servers[@]:$shift_by}" "${servers[@]:0:$shift_by}")
    declare -A rps p99
    for server in "${order[@]}"; do
      case $server in api) url=$api ;; bare) url=$bare ;; same) url=$same ;; esac
      read -r "rps[$server]" "p99[$server]" < <(measure "$url$path" "$work/$route.lua")
    done
    ratio=$(awk -v a="${rps[api]}" -v b="${rps[bare]}" 'BEGIN { printf "%.2f", a / b }')
    ratio_same=$(awk -v a="${rps[api]}" -v b="${rps[same]}" 'BEGIN { printf "%.2f", a / b }')
    echo "$ratio $ratio_same" >>"$work/$route.ratios"
    printf '%-22s %5s %12s %9s %12s %9s %12s %9s %10s %10s\n' "$route ($path)" "$round" "${rps[api]}" \
      "${p99[api]}" "${rps[bare]}" "${p99[bare]}" "${rps[same]}" "${p99[same]}" "$ratio" "$ratio_same"
  done
  summary[$route]="api÷bare $(cut -d' ' -f1 "$work/$route.ratios" | spread), api÷same $(cut -d' ' -f2 "$work/$route.ratios" | spread)"
done
echo "== median ratio over $ROUNDS rounds (lowest–highest)"
for route in preflight actual; do
  echo "$route: ${summary[$route]}"
done

echo "== memory of the API after a million requests (RSS, KiB)"
rss() { awk '/VmRSS/ {print $2}' "/proc/$api_pid/status"; }
echo "before: $(rss)"
total=0
while [ "$total" -lt 1000000 ]; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$work/actual.lua" "$api/api/items" >"$work/wrk.txt"
  n=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  total=$((total + n))
  echo "after $total requests: $(rss)"
done

echo "== start-up: exec to the first successful response of the whole lab (cors-lab, release)"
cargo build --release -q --bin cors-lab
for i in 1 2 3; do
  start_ns=$(date +%s%N)
  ./target/release/cors-lab --trusted-listen 127.0.0.1:0 --untrusted-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 \
    >"$work/lab.out" 2>/dev/null &
  lab_pid=$!
  pids+=($lab_pid)
  until api_addr=$(grep -o 'API .*listening on [0-9.:]*' "$work/lab.out" 2>/dev/null | grep -o '[0-9.]*:[0-9]*$') \
      && curl -sf -o /dev/null "http://$api_addr/_lab/health"; do
    sleep 0.001
  done
  end_ns=$(date +%s%N)
  echo "run $i: $(( (end_ns - start_ns) / 1000000 )) ms, RSS $(awk '/VmRSS/ {print $2}' /proc/$lab_pid/status) KiB"
  kill "$lab_pid"; wait "$lab_pid" 2>/dev/null || true
done
