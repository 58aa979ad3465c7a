#!/usr/bin/env bash
# Builds the fuzz targets on stable Rust with libFuzzer's coverage instrumentation (the same
# -C flags cargo-fuzz passes, without sanitizers, which need nightly) and runs each one for a
# short, bounded time. A crash or a failed property assertion fails the script.
#
#   fuzz/smoke.sh [SECONDS_PER_TARGET]   (default 20)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-20}"
export RUSTFLAGS="--cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
# An explicit --target keeps RUSTFLAGS away from build scripts and proc macros.
triple="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --manifest-path "$here/Cargo.toml" --release -j2 --bins --target "$triple"
for target in quantity plan packing import inputs check; do
  corpus="$here/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz smoke: $target for ${seconds}s"
  # Committed seeds (fuzz/seeds/<target>, read only) start the search where inputs are real.
  seeds=()
  [[ -d "$here/seeds/$target" ]] && seeds=("$here/seeds/$target")
  mkdir -p "$here/artifacts"
  log="$(mktemp)"
  if ! "$here/target/$triple/release/$target" -max_total_time="$seconds" -seed=1 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$here/artifacts/$target-" \
    "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    # The failure itself (panic message, backtrace, the input's path and base64) is the point.
    grep -v '^#[0-9]' "$log" | tail -n 80
    echo "fuzz smoke: $target FAILED; reproduce: $here/target/$triple/release/$target <artifact>"
    rm -f "$log"
    exit 1
  fi
  tail -n 4 "$log"
  rm -f "$log"
done
echo "fuzz smoke: all targets ran without a failure"
