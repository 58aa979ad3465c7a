#!/usr/bin/env bash
# The differential conformance suite (examples/conformance.rs): random small clusters on the
# running e2e cluster, one pod at a time released from its scheduling gate, the core's
# prediction compared with where the real kube-scheduler binds it.
#
# It deletes every node and the scenario namespace: run it after run-tests.sh (ci.sh does).
# Prints one line "PASS conformance: …" or "FAIL conformance: …" last; exit 1 on FAIL.
#
# Environment:
#   E2E_CONFORMANCE_SEEDS   seeds FROM..TO (default 1..2: seed 1, 177 placements, about 4 min)
#   E2E_CONFORMANCE_MIN     minimum agreement on non-tied choices, percent (default 99)
#   E2E_CONFORMANCE_OUT     where disagreements are written (default a temporary directory)
#   E2E_CONFORMANCE_SCHEDULER_CONFIG  the KubeSchedulerConfiguration the cluster's scheduler
#                           runs (the cluster brought up with E2E_SCHEDULER_CONFIG set to it);
#                           the prediction is given it with --scheduler-config
#   CONFORMANCE_BIN         the example binary (default: target/debug, built first)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seeds="${E2E_CONFORMANCE_SEEDS:-1..2}"
min="${E2E_CONFORMANCE_MIN:-99}"
out="${E2E_CONFORMANCE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/kube-compactor-conformance.XXXXXX")}"
bin="${CONFORMANCE_BIN:-}"
if [[ -z "$bin" ]]; then
  # Built now (a no-op after `cargo test`, which builds the examples), so that a stale binary
  # from an earlier build is never what gets measured.
  log "building examples/conformance"
  (cd "$REPO_DIR" && cargo build -j2 --example conformance >&2)
  bin="$REPO_DIR/target/debug/examples/conformance"
fi
need_bins kubectl
config=()
name=conformance
if [[ -n "${E2E_CONFORMANCE_SCHEDULER_CONFIG:-}" ]]; then
  config=(--scheduler-config "$E2E_CONFORMANCE_SCHEDULER_CONFIG")
  name="conformance ($(basename "$E2E_CONFORMANCE_SCHEDULER_CONFIG"))"
fi
log "$name: seeds $seeds with $bin (disagreements under $out)"
report="$out/report.md"
if "$bin" --seeds "$seeds" --out "$out" --kubectl "$E2E_BIN/kubectl" --min-agreement "$min" "${config[@]}" | tee "$report"; then
  echo "PASS $name: $(tail -n1 "$report")"
else
  echo "FAIL $name: below $min % agreement on non-tied choices, or the run failed (see $out)"
  exit 1
fi
