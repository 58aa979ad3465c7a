#!/usr/bin/env bash
# A real Kubernetes control plane with fake nodes, for end-to-end tests.
#
#   e2e/cluster.sh up       create (or reuse) the cluster, create the nodes of e2e/nodes.txt;
#                           prints the kubeconfig path on stdout (logs go to stderr)
#   e2e/cluster.sh down     stop every process it started and remove the cluster's files
#   e2e/cluster.sh status   health, components with their memory (RSS), nodes
#   e2e/cluster.sh kubeconfig   print the kubeconfig path
#
# kwokctl --runtime binary runs etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, the kwok controller and (when it was built) metrics-server as local
# processes, from the binaries e2e/build.sh put in the cache. Every port is bound to
# 127.0.0.1. Nothing is downloaded: a missing binary is an error.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES_FILE="${E2E_NODES_FILE:-$E2E_DIR/nodes.txt}"
CONFIG_FILE="$E2E_CACHE/kwokctl-$E2E_CLUSTER_NAME.yaml"
# kwokctl adds a context to a kubeconfig on create and removes it on delete; give it a file
# of its own so that ~/.kube/config is never touched.
CONTEXTS_FILE="$E2E_CACHE/kwokctl-contexts.kubeconfig"

kwokctl() { "$E2E_BIN/kwokctl" --name "$E2E_CLUSTER_NAME" "$@"; }

cluster_exists() { [[ -f "$E2E_CLUSTER_DIR/kwok.yaml" ]]; }

apiserver_ready() {
  [[ -f "$E2E_KUBECONFIG" ]] && kc get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

write_config() {
  local metrics_server=0
  [[ -x "$E2E_BIN/metrics-server" ]] && metrics_server=1
  mkdir -p "$E2E_CACHE"
  {
    cat <<EOF
# Written by e2e/cluster.sh; regenerated on every 'up'.
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: $K8S_VERSION
  kwokVersion: $KWOK_VERSION
  etcdVersion: $ETCD_VERSION
  cacheDir: $E2E_CACHE/kwok-cache
  kubeBinaryPrefix: $E2E_BIN
  kubeApiserverBinary: $E2E_BIN/kube-apiserver
  kubeControllerManagerBinary: $E2E_BIN/kube-controller-manager
  kubeSchedulerBinary: $E2E_BIN/kube-scheduler
  kubectlBinary: $E2E_BIN/kubectl
  kwokControllerBinary: $E2E_BIN/kwok
  etcdBinary: $E2E_BIN/etcd
  kubeAuthorization: true
  kubeAdmission: true
EOF
    if [[ -n "${E2E_SCHEDULER_CONFIG:-}" ]]; then
      echo "  kubeSchedulerConfig: $(realpath "$E2E_SCHEDULER_CONFIG")"
    fi
    if [[ $metrics_server -eq 1 ]]; then
      cat <<EOF
  metricsServerBinary: $E2E_BIN/metrics-server
  metricsServerManifests:
  - $E2E_DIR/manifests/metrics-server
  enable:
  - metrics-server
EOF
    fi
    # Large clusters (ca-compare.sh): the controller manager creates thousands of pods.
    if [[ -n "${E2E_CONTROLLER_MANAGER_QPS:-}" ]]; then
      cat <<EOF
componentsPatches:
- name: kube-controller-manager
  extraArgs:
  - key: kube-api-qps
    value: "$E2E_CONTROLLER_MANAGER_QPS"
  - key: kube-api-burst
    value: "$((E2E_CONTROLLER_MANAGER_QPS * 2))"
EOF
    fi
    echo "---"
    cat "$E2E_DIR/manifests/kwok-usage.yaml"
  } > "$CONFIG_FILE"
}

# Node manifests from the nodes file (see its header for the columns).
node_manifests() {
  local name zone itype cpu mem pods taints extras capacity pool t tkey effect tval r
  local -a list
  while read -r name zone itype cpu mem pods taints extras capacity; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    pool="${name%%-*}"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
    # metrics-server scrapes this path of the node's "kubelet" (the kwok controller).
    metrics.k8s.io/resource-metrics-path: /metrics/nodes/$name/metrics/resource
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/role: agent
    type: kwok
    topology.kubernetes.io/region: e2e-region-1
    topology.kubernetes.io/zone: $zone
    node.kubernetes.io/instance-type: $itype
    e2e.kube-compactor.io/pool: $pool
spec:
EOF
    # Taints: comma-separated key=value:Effect or key:Effect.
    if [[ "${taints:--}" != "-" ]]; then
      echo "  taints:"
      IFS=, read -ra list <<< "$taints"
      for t in "${list[@]}"; do
        tkey="${t%:*}"; effect="${t##*:}"; tval=""
        if [[ "$tkey" == *=* ]]; then tval="${tkey#*=}"; tkey="${tkey%%=*}"; fi
        printf '  - key: %s\n' "$tkey"
        if [[ -n "$tval" ]]; then printf '    value: "%s"\n' "$tval"; fi
        printf '    effect: %s\n' "$effect"
      done
    else
      echo "  {}"
    fi
    # Allocatable: cpu, memory, pods, 100Gi of ephemeral storage and the extra resources
    # (comma-separated name=qty). Capacity: the same, except what the capacity column
    # names (comma-separated name=qty).
    local -A alloc=([cpu]="$cpu" [memory]="$mem" [pods]="$pods" [ephemeral-storage]="100Gi")
    if [[ "${extras:--}" != "-" ]]; then
      IFS=, read -ra list <<< "$extras"
      for r in "${list[@]}"; do alloc[${r%%=*}]="${r#*=}"; done
    fi
    local -A cap=()
    for r in "${!alloc[@]}"; do cap[$r]="${alloc[$r]}"; done
    if [[ "${capacity:--}" != "-" ]]; then
      IFS=, read -ra list <<< "$capacity"
      for r in "${list[@]}"; do cap[${r%%=*}]="${r#*=}"; done
    fi
    echo "status:"
    echo "  allocatable:"
    while read -r r; do printf '    %s: "%s"\n' "$r" "${alloc[$r]}"; done < <(printf '%s\n' "${!alloc[@]}" | sort)
    echo "  capacity:"
    while read -r r; do printf '    %s: "%s"\n' "$r" "${cap[$r]}"; done < <(printf '%s\n' "${!cap[@]}" | sort)
    unset alloc cap
    printf '  nodeInfo:\n    architecture: amd64\n    operatingSystem: linux\n    kubeletVersion: fake\n    kubeProxyVersion: fake\n'
  done < "$NODES_FILE"
}

expected_nodes() { grep -cvE '^[[:space:]]*(#|$)' "$NODES_FILE"; }

create_nodes() {
  local want stale
  want="$(expected_nodes)"
  # A running cluster may hold the nodes of another nodes file: those go first.
  stale="$(comm -23 <(kc get nodes -l type=kwok -o name | sed 's|^node/||' | sort) \
                    <(grep -vE '^[[:space:]]*(#|$)' "$NODES_FILE" | awk '{print $1}' | sort))"
  if [[ -n "$stale" ]]; then
    log "deleting $(wc -w <<< "$stale") nodes that $NODES_FILE does not list"
    # shellcheck disable=SC2086 # one name per word
    kc delete node $stale >/dev/null
  fi
  log "creating $want nodes from $NODES_FILE"
  node_manifests | kc apply -f - >/dev/null
  log "waiting for the nodes to be Ready"
  kc wait --for=condition=Ready node -l type=kwok --timeout=300s >/dev/null \
    || die "nodes did not become Ready"
  local have
  have="$(kc get nodes -l type=kwok -o name | wc -l)"
  [[ "$have" -eq "$want" ]] || die "expected $want nodes, found $have"
}

wait_control_plane() {
  local i
  for ((i = 0; i < 120; i++)); do
    # The default ServiceAccount appears once the controller manager works.
    if apiserver_ready && kc -n default get serviceaccount default >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  die "the control plane did not become ready within 120 s (logs: $E2E_CLUSTER_DIR/logs)"
}

cmd_up() {
  need_bins kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl etcd
  local t0=$SECONDS
  if cluster_exists && apiserver_ready; then
    log "cluster $E2E_CLUSTER_NAME is already running"
  else
    if cluster_exists; then
      log "cluster $E2E_CLUSTER_NAME exists but does not answer: starting it again"
      if ! kwokctl start cluster --timeout 3m >&2; then
        log "start failed: deleting and creating it again"
        cmd_down
      fi
    fi
    if ! cluster_exists; then
      write_config
      log "creating cluster $E2E_CLUSTER_NAME (kwokctl --runtime binary, Kubernetes $K8S_VERSION)"
      kwokctl create cluster --config "$CONFIG_FILE" --kubeconfig "$CONTEXTS_FILE" \
        --timeout 5m --wait 2m >&2 \
        || die "kwokctl create cluster failed (logs: $E2E_CLUSTER_DIR/logs)"
    fi
  fi
  wait_control_plane
  create_nodes
  log "cluster up in $((SECONDS - t0)) s; kubeconfig: $E2E_KUBECONFIG"
  echo "$E2E_KUBECONFIG"
}

# "name:pid" of every component that kwokctl started (from its pid files), and only those
# whose command line is still the cluster's binary (a pid may have been reused).
cluster_pids() {
  local f pid
  for f in "$E2E_CLUSTER_DIR"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(tr -d '[:space:]' < "$f")"
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$E2E_CLUSTER_DIR/"; then
      printf '%s:%s\n' "$(basename "$f" .pid)" "$pid"
    fi
  done
}

# stop_pids LIST: SIGTERM each process still alive, wait up to 20 s, then SIGKILL.
stop_pids() {
  local entry name pid alive i
  for entry in $1; do
    pid="${entry##*:}"
    kill -0 "$pid" 2>/dev/null || continue
    log "stopping ${entry%%:*} (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for ((i = 0; i < 20; i++)); do
    alive=""
    for entry in $1; do kill -0 "${entry##*:}" 2>/dev/null && alive+="$entry "; done
    [[ -z "$alive" ]] && return 0
    sleep 1
  done
  for entry in $alive; do
    name="${entry%%:*}"; pid="${entry##*:}"
    log "killing $name (pid $pid): still running 20 s after SIGTERM"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

cmd_down() {
  if [[ ! -x "$E2E_BIN/kwokctl" ]]; then
    [[ -d "$E2E_CLUSTER_DIR" ]] || { log "no cluster"; return 0; }
    die "$E2E_BIN/kwokctl is missing but $E2E_CLUSTER_DIR exists: stop its processes (pids in $E2E_CLUSTER_DIR/pids) by hand"
  fi
  if cluster_exists; then
    log "deleting cluster $E2E_CLUSTER_NAME"
    # Read the pids first: kwokctl removes the pid files even when a process outlives it.
    local pids
    pids="$(cluster_pids)"
    kwokctl delete cluster --kubeconfig "$CONTEXTS_FILE" >&2 || log "kwokctl delete cluster failed; stopping what is left"
    stop_pids "$pids"
  fi
  stop_pids "$(cluster_pids)"
  rm -rf "$E2E_CLUSTER_DIR" "$CONFIG_FILE"
  log "cluster $E2E_CLUSTER_NAME is down"
}

# RSS of each component process, from the pid files kwokctl writes.
component_rss() {
  local f pid rss total=0 name
  for f in "$E2E_CLUSTER_DIR"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    name="$(basename "$f" .pid)"
    pid="$(cat "$f")"
    if [[ -n "$pid" && -r "/proc/$pid/status" ]]; then
      rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
      total=$((total + rss))
      printf '  %-26s pid %-8s RSS %6d MiB\n' "$name" "$pid" "$((rss / 1024))"
    else
      printf '  %-26s not running\n' "$name"
    fi
  done
  printf '  %-26s              %6d MiB\n' "total" "$((total / 1024))"
}

cmd_status() {
  if ! cluster_exists; then
    echo "cluster $E2E_CLUSTER_NAME: absent"
    return 1
  fi
  if apiserver_ready; then
    echo "cluster $E2E_CLUSTER_NAME: ready ($(kc version -o json 2>/dev/null | awk -F'"' '/gitVersion/ {v=$4} END {print "server " v}'))"
  else
    echo "cluster $E2E_CLUSTER_NAME: NOT answering"
  fi
  echo "kubeconfig: $E2E_KUBECONFIG"
  echo "components:"
  component_rss
  if apiserver_ready; then
    echo "nodes:"
    kc get nodes -L topology.kubernetes.io/zone -L node.kubernetes.io/instance-type 2>&1 | sed 's/^/  /'
    if kc get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1; then
      echo "metrics.k8s.io: $(kc get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}')"
    else
      echo "metrics.k8s.io: not installed"
    fi
    return 0
  fi
  return 1
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kubeconfig) echo "$E2E_KUBECONFIG" ;;
  *) echo "usage: $0 up|down|status|kubeconfig" >&2; exit 2 ;;
esac
