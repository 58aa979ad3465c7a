#!/usr/bin/env bash
# The real Cluster Autoscaler beside kube-compactor, on the same kwok cluster and state.
#
#   e2e/ca-compare.sh DUMP [--sample N] [--seed S] [--levels conservative,medium,aggressive]
#                          [--out DIR] [--keep]
#
# 1. a fresh cluster (its own name, kube-compactor-ca: never the e2e tests' cluster) comes up;
# 2. the `recreate` example rebuilds DUMP on it (examples/common/recreate.rs, shared with the
#    fidelity example): kwok nodes adoptable by CA's kwok cloud provider (a node group per
#    instance type, max size = its size), the workloads recreated (ReplicaSets, StatefulSets,
#    the DaemonSet on every node as in the dump, bare pods, PDBs) and placed by the real
#    kube-scheduler;
# 3. the state is dumped once (kubectl get …,replicasets,jobs -o json): `kube-compactor plan
#    --from` it at each safety level, and `kube-compactor check` checks each plan against it;
# 4. ca-observe (Cluster Autoscaler 1.33.0 built by build.sh, observe only: see below) runs
#    against the live cluster at each level until its unneeded set is the same two loops in a
#    row, and once more with CA's default thresholds (0.5);
# 5. prints, per level, the nodes each would remove, in both / only one, our kept nodes beside
#    the lower bounds, and the wall time of each; writes it all to DIR/compare.json.
#
# Observe only: Cluster Autoscaler has no dry run. It runs with --scale-down-unneeded-time=24h
# (it never deletes within its run), node groups whose max size is their size and
# --max-nodes-total = the node count (it never scales up), --max-bulk-soft-taint-count=0 (no
# DeletionCandidate taints), --write-status-configmap=false, and without the signal handler that
# would make the kwok provider delete its nodes. The cluster is deleted at the end (--keep keeps
# it running).
#
# Threshold mapping (docs/decisions.md "Cluster Autoscaler side by side"): our level's cap (70 /
# 80 / 90 %) becomes CA's --scale-down-utilization-threshold and
# --scale-down-gpu-utilization-threshold. CA has no cap on the nodes that receive pods (it fills
# them to their allocatable), so this gives CA the same candidates and more room than we take.
set -euo pipefail
: "${E2E_CLUSTER_NAME:=kube-compactor-ca}"
export E2E_CLUSTER_NAME
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dump="" sample="" seed=1 levels="conservative,medium,aggressive" out="" keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sample) sample="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --levels) levels="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [[ -z "$dump" ]] || die "one dump only (got $dump and $1)"; dump="$1"; shift ;;
  esac
done
[[ -n "$dump" ]] || die "usage: e2e/ca-compare.sh DUMP [--sample N] [--levels L,L] [--out DIR] [--keep]"
[[ -r "$dump" ]] || die "cannot read $dump"
need_bins kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl etcd ca-observe
command -v jq >/dev/null || die "jq is not on PATH"
# Release builds, else the debug ones `cargo test` leaves (CI).
profile=release
[[ -x "$REPO_DIR/target/release/kube-compactor" && -x "$REPO_DIR/target/release/examples/recreate" ]] || profile=debug
BIN="${KUBE_COMPACTOR_BIN:-$REPO_DIR/target/$profile/kube-compactor}"
[[ -x "$BIN" ]] || die "$BIN is missing: cargo build --release first"
out="${out:-$(mktemp -d "${TMPDIR:-/tmp}/ca-compare.XXXXXX")}"
mkdir -p "$out"
log "output in $out"

cap_of() { case "$1" in conservative) echo 0.7 ;; medium) echo 0.8 ;; aggressive) echo 0.9 ;; *) die "unknown level $1" ;; esac; }
IFS=, read -ra level_list <<< "$levels"
for l in "${level_list[@]}"; do cap_of "$l" >/dev/null; done

# ------------------------------------------------------------------ the cluster
RECREATE="${KUBE_COMPACTOR_EXAMPLES_DIR:-$REPO_DIR/target/$profile/examples}/recreate"
[[ -x "$RECREATE" ]] || die "$RECREATE is missing: cargo build --release --example recreate first"
# Always its own cluster: a KUBECONFIG from the caller (ci.sh exports the e2e cluster's) would
# make cluster.sh wait on that cluster instead.
unset KUBECONFIG
"$E2E_DIR/cluster.sh" down >/dev/null 2>&1 || true
[[ $keep -eq 1 ]] || trap '"$E2E_DIR/cluster.sh" down >/dev/null 2>&1 || true' EXIT
t0=$SECONDS
KUBECONFIG="$(E2E_CONTROLLER_MANAGER_QPS=200 "$E2E_DIR/cluster.sh" up 2> "$out/cluster-up.log")" \
  || die "the cluster did not come up: $(tail -n 5 "$out/cluster-up.log")"
export KUBECONFIG
sample_args=()
[[ -n "$sample" ]] && sample_args=(--sample "$sample" --seed "$seed")
"$RECREATE" "$dump" --cluster-autoscaler "${sample_args[@]}" > "$out/recreate.json" 2> "$out/recreate.log" \
  || die "recreating $dump failed: $(tail -n 5 "$out/recreate.log")"
nodes="$(jq .nodes "$out/recreate.json")"
log "$(basename "$dump")${sample:+ (sample of $sample nodes, seed $seed)}: $nodes nodes, $(jq .boundPods "$out/recreate.json") of $(jq .pods "$out/recreate.json") pods bound by kube-scheduler ($(jq .expectedPods "$out/recreate.json") in the dump), $((SECONDS - t0)) s"
kc get nodes,pods,pdb,pvc,pv,namespaces,csinodes,replicasets,jobs -A -o json > "$out/state.json"

# ------------------------------------------------------------------ kube-compactor
# timed OUT TIMEFILE CMD...: runs CMD with stdout to OUT, its wall seconds and peak RSS (KiB)
# to TIMEFILE; GNU time (Debian's `time`) when installed, else the wall time only (RSS 0).
timed() {
  local o="$1" t="$2" rc=0 start; shift 2
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%e %M' -o "$t" "$@" > "$o" || rc=$?
  else
    start=$EPOCHREALTIME
    "$@" > "$o" || rc=$?
    awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f 0\n", b - a }' > "$t"
  fi
  return $rc
}
for l in "${level_list[@]}"; do
  timed "$out/plan-$l.json" "$out/plan-$l.time" "$BIN" plan --from "$out/state.json" --safety "$l" --output json
  "$BIN" check --from "$out/state.json" --plan "$out/plan-$l.json" --output json > "$out/check-$l.json" || true
  log "kube-compactor $l: drains $(jq '.drain | length' "$out/plan-$l.json"), check valid: $(jq .valid "$out/check-$l.json")"
done

# ------------------------------------------------------------------ Cluster Autoscaler
kc -n kube-system apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: kwok-provider-config
data:
  config: |
    apiVersion: v1alpha1
    readNodesFrom: cluster
    nodegroups:
      fromNodeLabelAnnotation: cluster-autoscaler.kwok.nodegroup/name
    nodes:
      skipTaint: true
      gpuConfig:
        gpuLabelKey: kube-compactor.io/gpu-node
        availableGPUTypes:
          "true": {}
EOF
run_ca() { # NAME THRESHOLD
  local name="$1" thr="$2" t1=$SECONDS rc=0
  KWOK_PROVIDER_MODE=local POD_NAMESPACE=kube-system timed "$out/ca-$name.jsonl" "$out/ca-$name.time" \
    "$E2E_BIN/ca-observe" --kubeconfig "$KUBECONFIG" --cloud-provider kwok --namespace kube-system \
      --scale-down-enabled=true --scale-down-unneeded-time 24h --scale-down-unready-time 24h \
      --scale-down-delay-after-add 0s --max-nodes-total "$nodes" \
      --max-scale-down-parallelism $((nodes + 10)) --max-drain-parallelism $((nodes + 10)) \
      --max-bulk-soft-taint-count 0 --write-status-configmap=false \
      --scale-down-simulation-timeout 30m --scan-interval 10s \
      --scale-down-utilization-threshold "$thr" --scale-down-gpu-utilization-threshold "$thr" \
      --observe-stable-loops 2 --observe-max-loops 12 --v 2 --logtostderr=true \
      2> "$out/ca-$name.log" || rc=$?
  [[ $rc -eq 0 || $rc -eq 3 ]] || die "ca-observe failed (exit $rc): tail of $out/ca-$name.log: $(tail -n 5 "$out/ca-$name.log")"
  log "Cluster Autoscaler ($name, threshold $thr): $(tail -n1 "$out/ca-$name.jsonl" | jq '.unneeded | length') unneeded after $(tail -n1 "$out/ca-$name.jsonl" | jq .loop) loops$([[ $rc -eq 3 ]] && echo ' (NOT stable)'), $((SECONDS - t1)) s"
}
for l in "${level_list[@]}"; do run_ca "$l" "$(cap_of "$l")"; done
run_ca default 0.5

# ------------------------------------------------------------------ side by side
python3 - "$out" "$(basename "$dump")${sample:+ sample $sample seed $seed}" "$nodes" "${level_list[@]}" <<'PY'
import json, re, sys
out, name, nodes, levels = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def load_jsonl(path):
    lines = [json.loads(l) for l in open(path) if l.strip()]
    return lines[-1], lines
def tm(path):
    s, kb = open(path).read().split()[:2]
    return float(s), int(kb) // 1024
rows = []
ca_default, _ = load_jsonl(f"{out}/ca-default.jsonl")
for l in levels:
    plan = json.load(open(f"{out}/plan-{l}.json"))
    check = json.load(open(f"{out}/check-{l}.json"))
    ours = {d["node"] for d in plan["drain"]}
    final, loops = load_jsonl(f"{out}/ca-{l}.jsonl")
    ca = set(final["unneeded"])
    # Nodes CA refused only because the budgets cannot cover them all at once: it plans one
    # round of removals that can run in parallel; later rounds would look again.
    pdb = set(re.findall(r"Node (\S+) cannot be removed: not enough pod disruption budget",
                         open(f"{out}/ca-{l}.log").read())) - ca
    ours_t, ours_mb = tm(f"{out}/plan-{l}.time")
    ca_t, ca_mb = tm(f"{out}/ca-{l}.time")
    rows.append({
        "level": l, "nodes": nodes,
        "ours": len(ours), "ca": len(ca), "both": len(ours & ca),
        "onlyOurs": len(ours - ca), "onlyCa": len(ca - ours),
        "caDefault": len(ca_default["unneeded"]), "caRefusedForBudgets": len(pdb),
        "kept": nodes - len(ours), "lowerBound": plan["lowerBound"]["nodes"],
        "capLowerBound": plan["capLowerBound"]["nodes"],
        "checkValid": check.get("valid"), "violations": len(check.get("violations", [])),
        "caStable": bool(final.get("stable")), "caLoops": final["loop"],
        "caFirstLoopSeconds": loops[0]["seconds"],
        "oursSeconds": ours_t, "oursPeakMiB": ours_mb, "caSeconds": ca_t, "caPeakMiB": ca_mb,
        "onlyCaNodes": sorted(ca - ours), "onlyOursNodes": sorted(ours - ca),
    })
json.dump({"cluster": name, "rows": rows}, open(f"{out}/compare.json", "w"), indent=1)
print(f"\n{name}: {nodes} nodes (CA 1.33.0 observe-only vs kube-compactor plan, same cluster and state)")
hdr = ("level", "CA threshold", "CA: unneeded", "CA: refused for budgets", "we drain", "both", "only CA", "only us",
       "we keep", "cap-aware bound", "bound", "our checker", "CA loop s", "our plan s")
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for r in rows:
    thr = {"conservative": "0.7", "medium": "0.8", "aggressive": "0.9"}[r["level"]]
    print("| " + " | ".join(str(x) for x in (
        r["level"], thr, f'{r["ca"]}{"" if r["caStable"] else " (not stable)"}', r["caRefusedForBudgets"], r["ours"], r["both"],
        r["onlyCa"], r["onlyOurs"], r["kept"], r["capLowerBound"], r["lowerBound"],
        "valid" if r["checkValid"] else f'{r["violations"]} violations',
        f'{r["caFirstLoopSeconds"]:.2f}', f'{r["oursSeconds"]:.2f}')) + " |")
print(f"CA with its default thresholds (0.5): removes {rows[0]['caDefault']}")
PY
