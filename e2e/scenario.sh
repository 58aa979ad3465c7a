#!/usr/bin/env bash
# Applies the e2e workload set (e2e/manifests/workloads.yaml) to the running e2e cluster and
# waits until the real controllers report it settled: every pod scheduled, Running and
# Ready, every PVC Bound, the rollouts complete and the disruption controller's PDB status
# computed (web: 1 disruption allowed, api: 0, db: 1). Idempotent.
#
# Uses $KUBECONFIG when set, else the e2e cluster's kubeconfig.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_bins kubectl

: "${E2E_SETTLE_TIMEOUT:=180}"
NS=e2e-apps
t0=$SECONDS

kc get --raw /readyz >/dev/null 2>&1 || die "no cluster answers at ${KUBECONFIG:-$E2E_KUBECONFIG}: run e2e/cluster.sh up"

# The namespace first, then wait for its default ServiceAccount (the ServiceAccount
# admission plugin refuses pods until the controller has made it).
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    e2e.kube-compactor.io/scenario: "true"
EOF
for ((i = 0; i < 60; i++)); do
  kc -n "$NS" get serviceaccount default >/dev/null 2>&1 && break
  sleep 1
done
kc -n "$NS" get serviceaccount default >/dev/null || die "namespace $NS has no default ServiceAccount after 60 s"

log "applying e2e/manifests/workloads.yaml"
kc apply -f "$E2E_DIR/manifests/workloads.yaml" >&2

deadline=$((SECONDS + E2E_SETTLE_TIMEOUT))
remaining() { local r=$((deadline - SECONDS)); ((r > 0)) || r=1; echo "${r}s"; }

log "waiting for rollouts"
for d in web api worker cache gpu-infer; do
  kc -n "$NS" rollout status "deployment/$d" --timeout="$(remaining)" >/dev/null \
    || die "deployment $d did not roll out"
done
kc -n "$NS" rollout status statefulset/db --timeout="$(remaining)" >/dev/null || die "statefulset db did not roll out"
kc -n "$NS" rollout status daemonset/node-agent --timeout="$(remaining)" >/dev/null || die "daemonset node-agent did not roll out"

# Every pod of the namespace: bound to a node, Running, Ready, not being deleted.
pods_settled() {
  kc -n "$NS" get pods -o go-template='{{range .items}}{{.metadata.name}} {{or .spec.nodeName "-"}} {{.status.phase}} {{if .metadata.deletionTimestamp}}deleting{{else}}live{{end}} {{range .status.conditions}}{{if eq .type "Ready"}}{{.status}}{{end}}{{end}}{{"\n"}}{{end}}' \
    | awk 'NF < 5 || $2 == "-" || $3 != "Running" || $4 != "live" || $5 != "True" {bad++; print "  not settled: " $0 > "/dev/stderr"} END {exit bad > 0}'
}

pdb_allowed() {
  kc -n "$NS" get pdb "$1" -o go-template='{{if eq .status.observedGeneration .metadata.generation}}{{.status.disruptionsAllowed}}/{{.status.currentHealthy}}/{{.status.expectedPods}}{{else}}stale{{end}}' 2>/dev/null
}

log "waiting for pods Running and Ready, PVCs Bound and PDB status"
while :; do
  ok=1
  pods_settled 2>/dev/null || ok=0
  if [[ $ok -eq 1 ]]; then
    unbound="$(kc -n "$NS" get pvc -o jsonpath='{range .items[?(@.status.phase!="Bound")]}{.metadata.name}{" "}{end}')"
    [[ -z "$unbound" ]] || ok=0
  fi
  if [[ $ok -eq 1 ]]; then
    [[ "$(pdb_allowed web)" == "1/6/6" ]] || ok=0
    [[ "$(pdb_allowed api)" == "0/3/3" ]] || ok=0
    [[ "$(pdb_allowed db)" == "1/3/3" ]] || ok=0
  fi
  [[ $ok -eq 1 ]] && break
  if ((SECONDS >= deadline)); then
    pods_settled || true
    echo "PDBs (allowed/healthy/expected): web=$(pdb_allowed web) api=$(pdb_allowed api) db=$(pdb_allowed db)" >&2
    kc -n "$NS" get pvc >&2 || true
    die "the scenario did not settle within ${E2E_SETTLE_TIMEOUT}s"
  fi
  sleep 2
done

log "scenario settled in $((SECONDS - t0)) s: $(kc -n "$NS" get pods --no-headers | wc -l) pods on $(kc get nodes --no-headers | wc -l) nodes"
kc -n "$NS" get pods -o wide --sort-by=.spec.nodeName >&2
