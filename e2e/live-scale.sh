#!/usr/bin/env bash
# Measures `plan --live` on a large kwok cluster: N nodes (default 5,000) with P pods each
# (default 5) bound directly (spec.nodeName, no scheduler), 1,000 ReplicaSets owning them.
# Prints the time and peak memory of `kube-compactor plan --live`, and the same for
# `plan --from` a dump of the cluster, for comparison.
#
#   export KUBECONFIG="$(e2e/cluster.sh up)"; e2e/live-scale.sh [NODES] [PODS_PER_NODE]
#
# It deletes every node of the cluster it runs on (kwok nodes only: it refuses otherwise)
# and creates the namespace live-scale.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NODES="${1:-5000}" PER="${2:-5}"
BIN="${KUBE_COMPACTOR_BIN:-$REPO_DIR/target/release/kube-compactor}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/live-scale.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
[[ -z "$(kc get nodes -o jsonpath='{range .items[?(@.metadata.labels.type!="kwok")]}{.metadata.name}{" "}{end}')" ]] \
  || die "the cluster has nodes that are not kwok nodes"
kc delete nodes --all >/dev/null
kc create namespace live-scale >/dev/null 2>&1 || true
python3 - "$NODES" "$PER" "$TMP" <<'PY'
import json, sys
nodes, per, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def chunked(kind, items, name):
    for i in range(0, len(items), 1000):
        json.dump({"apiVersion": "v1", "kind": "List", "items": items[i:i + 1000]},
                  open(f"{tmp}/{name}-{i // 1000:04d}.json", "w"))
ns = [{"apiVersion": "v1", "kind": "Node",
       "metadata": {"name": f"n{i:05d}", "labels": {"type": "kwok", "topology.kubernetes.io/zone": f"z{i % 3}",
                    "kubernetes.io/hostname": f"n{i:05d}"}, "annotations": {"kwok.x-k8s.io/node": "fake"}},
       "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                  "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"}}} for i in range(nodes)]
chunked("Node", ns, "nodes")
count = [0] * 1000
for i in range(nodes * per):
    count[i % 1000] += 1
# Created after the pods: each adopts its pods (replicas = their number, so it creates none).
rs = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
       "metadata": {"name": f"w{j:04d}-abc", "namespace": "live-scale", "labels": {"app": f"w{j:04d}"}},
       "spec": {"replicas": count[j], "selector": {"matchLabels": {"app": f"w{j:04d}"}},
                "template": {"metadata": {"labels": {"app": f"w{j:04d}"}},
                             "spec": {"containers": [{"name": "c", "image": "x"}]}}}} for j in range(1000)]
chunked("ReplicaSet", rs, "rs")
pods = []
for i in range(nodes):
    for k in range(per):
        j = (i * per + k) % 1000
        pods.append({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p{i:05d}-{k}", "namespace": "live-scale",
                         "labels": {"app": f"w{j:04d}", "pod-template-hash": "abc"}},
            "spec": {"nodeName": f"n{i:05d}", "containers": [{"name": "c", "image": "x",
                     "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]}})
chunked("Pod", pods, "pods")
PY
t0=$SECONDS
for f in "$TMP"/nodes-*.json "$TMP"/pods-*.json "$TMP"/rs-*.json; do kc create -f "$f" >/dev/null; done
log "created $NODES nodes and $((NODES * PER)) pods in $((SECONDS - t0)) s"
measure() { # label, command...
  local out="$TMP/time.txt"
  /usr/bin/time -v "${@:2}" > "$TMP/plan.json" 2> "$out"
  printf '%s: %s s, peak RSS %s MiB, %s nodes drained\n' "$1" \
    "$(awk -F': ' '/Elapsed/ {print $2}' "$out")" \
    "$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$out")" \
    "$(jq '.drain | length' "$TMP/plan.json")"
}
measure "plan --live" "$BIN" plan --live --output json
kc get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json > "$TMP/dump.json"
printf 'dump: %s MiB\n' "$(($(stat -c %s "$TMP/dump.json") / 1048576))"
measure "plan --from dump" "$BIN" plan --from "$TMP/dump.json" --output json
