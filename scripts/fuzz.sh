#!/usr/bin/env bash
# Fuzzes the CORS engine (crates/cors-policy) with cargo-fuzz and libFuzzer.
#
#   scripts/fuzz.sh                 # every target of fuzz/, 60 s each
#   scripts/fuzz.sh 300             # 300 s each
#   FUZZ_TARGETS="origin browser_check" scripts/fuzz.sh 30
#
# Builds every target once (release, AddressSanitizer), runs each for the given number of
# seconds, and exits non-zero when any target crashed, i.e. panicked (a failed invariant is a
# panic), hit a sanitizer error, ran out of memory or took over 10 s on one input. The
# crashing input is saved under fuzz/artifacts/<target>/; replay it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -O <target> <file>`. Corpora grow in fuzz/corpus/<target>/
# and are reused by the next run; each run's libFuzzer log is in fuzz/artifacts/logs/.
#
# Toolchain: cargo-fuzz passes nightly-only flags (-Zsanitizer=address); on the stable toolchain
# RUSTC_BOOTSTRAP=1 lets rustc accept them, which is what this script sets (tested with Rust
# 1.95.0; the AddressSanitizer runtime ships with the stable x86_64 Linux toolchain). cargo-fuzz
# itself is installed from crates.io when missing. libFuzzer's C++ sources need a C++ compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2; exit 2 ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: installing cargo-fuzz from crates.io" >&2
  cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
# Keep the fuzz build next to the caller's target dir when one is set.
target_dir="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}}"
target_dir="${target_dir:-fuzz/target}"
build_flags=(-O --target-dir "$target_dir")

targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
echo "== cargo fuzz build (${target_dir})"
cargo fuzz build "${build_flags[@]}"

mkdir -p fuzz/artifacts/logs
crashed=()
for target in $targets; do
  log="fuzz/artifacts/logs/${target}.log"
  echo "== ${target}: ${seconds} s (log: ${log})"
  mkdir -p "fuzz/corpus/${target}"
  if cargo fuzz run "${build_flags[@]}" "$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -dict=fuzz/cors.dict -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    echo "   ok: ${runs:-?} inputs, no crash"
  else
    crashed+=("$target")
    echo "   CRASH: see ${log} and fuzz/artifacts/${target}/" >&2
    grep -E "panicked at|ERROR: |SUMMARY|Test unit written" "$log" | head -n 8 >&2 || true
  fi
done

if [ "${#crashed[@]}" -gt 0 ]; then
  echo "fuzz: ${#crashed[@]} target(s) crashed: ${crashed[*]}" >&2
  exit 1
fi
echo "fuzz: every target ran ${seconds} s without a crash"
