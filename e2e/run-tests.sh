#!/usr/bin/env bash
# End-to-end checks against the running e2e cluster (after e2e/cluster.sh up and
# e2e/scenario.sh). Each check prints PASS, FAIL or SKIP; the last line is
# "N passed, N failed"; the exit status is non-zero when a check failed.
#
# The cluster: $KUBECONFIG when set, else the e2e cluster's kubeconfig. Everything is
# skipped (exit 0) unless that cluster answers and is an e2e cluster (kwok nodes and the
# scenario namespace): these checks cordon nodes and evict pods.
#
# Environment:
#   KUBE_COMPACTOR_BIN   the kube-compactor binary (default: the newer of
#                        target/release/kube-compactor and target/debug/kube-compactor)
#   KUBE_COMPACTOR_EXAMPLES_DIR  where the observe, plan and apply examples are (default:
#                        built with cargo into target/debug/examples)
#   E2E_KEEP_TMP=1       keep the temporary directory with the dumps and plans
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NS=e2e-apps
if [[ -z "${KUBE_COMPACTOR_BIN:-}" ]]; then
  # The newer of the release and debug builds: a CI run that only ran cargo test has the
  # debug build, and a release build left from earlier work must not stand in for it.
  KUBE_COMPACTOR_BIN="$REPO_DIR/target/release/kube-compactor"
  if [[ -x "$REPO_DIR/target/debug/kube-compactor" \
        && ( ! -x "$KUBE_COMPACTOR_BIN" || "$REPO_DIR/target/debug/kube-compactor" -nt "$KUBE_COMPACTOR_BIN" ) ]]; then
    KUBE_COMPACTOR_BIN="$REPO_DIR/target/debug/kube-compactor"
  fi
fi
passed=0 failed=0 skipped=0
TMP="$(mktemp -d "${TMPDIR:-/tmp}/kube-compactor-e2e.XXXXXX")"
cordoned=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [[ -n "$cordoned" ]]; then kc uncordon "$cordoned" >/dev/null 2>&1 || true; fi
  if [[ "${E2E_KEEP_TMP:-0}" == 1 ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

pass() { passed=$((passed + 1)); echo "PASS $1${2:+: $2}"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1${2:+: $2}"; }
finish() {
  echo "$skipped skipped"
  echo "$passed passed, $failed failed"
  if [[ $failed -gt 0 ]]; then exit 1; fi
  exit 0
}

# ------------------------------------------------------------------ gate
if [[ ! -x "$E2E_BIN/kubectl" ]]; then
  skip all "no kubectl at $E2E_BIN/kubectl (run e2e/build.sh)"
  finish
fi
if ! kc get --raw /readyz >/dev/null 2>&1; then
  skip all "no cluster answers at ${KUBECONFIG:-$E2E_KUBECONFIG} (run e2e/cluster.sh up and e2e/scenario.sh)"
  finish
fi
if [[ "$(kc get nodes -o name | wc -l)" -eq 0 \
   || -n "$(kc get nodes -o jsonpath='{range .items[?(@.metadata.labels.type!="kwok")]}{.metadata.name}{" "}{end}')" \
   || "$(kc get namespace "$NS" -o jsonpath='{.metadata.labels.e2e\.kube-compactor\.io/scenario}' 2>/dev/null)" != "true" ]]; then
  skip all "the cluster at ${KUBECONFIG:-$E2E_KUBECONFIG} is not an e2e cluster with the scenario applied (kwok nodes only, namespace $NS)"
  finish
fi

# jq helpers over one snapshot; refreshed where a check changes the cluster.
snapshot() {
  kc get nodes -o json > "$TMP/nodes.json"
  kc -n "$NS" get pods -o json > "$TMP/pods.json"
}
snapshot

# ------------------------------------------------------------------ versions
server_version="$(kc version -o json | jq -r '.serverVersion.gitVersion')"
if [[ "$server_version" == "$K8S_VERSION" ]]; then
  pass server-version "$server_version"
else
  fail server-version "server reports '$server_version', expected $K8S_VERSION"
fi

# ------------------------------------------------------------------ custom resources
# The API server accepts our CustomResourceDefinitions (structural schemas, CEL cost within
# budget), applies the schema defaults, and refuses invalid objects through the CEL rules.
crd_check() {
  "$KUBE_COMPACTOR_BIN" crds > "$TMP/crds.yaml" || { echo "kube-compactor crds failed"; return 1; }
  kc apply -f "$TMP/crds.yaml" > "$TMP/crds.out" 2>&1 || { tail -n3 "$TMP/crds.out"; return 1; }
  kc wait --for=condition=Established crd/optimizationconfigs.optimizer.io \
    crd/migrationplans.optimizer.io crd/optimizationreports.optimizer.io --timeout=60s >/dev/null \
    || { echo "not Established within 60 s"; return 1; }
  local cfg='{"apiVersion":"optimizer.io/v1alpha1","kind":"OptimizationConfig","metadata":{"name":"NAME"},"spec":SPEC}'
  config() { local c="${cfg/NAME/$1}"; echo "${c/SPEC/$2}"; }
  # Discovery of the new kinds can lag the Established condition by a moment.
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    config e2e-defaults '{}' | kc apply -f - > "$TMP/cr.out" 2>&1 && break
    sleep 1
  done
  grep -q created "$TMP/cr.out" || grep -q unchanged "$TMP/cr.out" || { cat "$TMP/cr.out"; return 1; }
  local defaults
  defaults="$(kc get optimizationconfig e2e-defaults -o jsonpath='{.spec.mode} {.spec.schedule} {.spec.excludeNamespaces[0]}')"
  [[ "$defaults" == "observe 0 * * * * kube-system" ]] || { echo "defaults not applied: [$defaults]"; return 1; }
  local name spec want out refused=0
  while IFS='|' read -r name spec want; do
    if out="$(config "$name" "$spec" | kc apply -f - 2>&1)"; then
      echo "accepted $name: $out"; return 1
    fi
    grep -qF "$want" <<<"$out" || { echo "$name refused for another reason: $out"; return 1; }
    refused=$((refused + 1))
  done <<'CASES'
e2e-full-auto|{"mode":"full-auto"}|spec.confirmFullAuto: Invalid value: "object": mode full-auto requires confirmFullAuto: true
e2e-bad-start|{"safeWindows":[{"start":"24:00","end":"04:00"}]}|start must be HH:MM
e2e-same-times|{"safeWindows":[{"start":"04:00","end":"04:00"}]}|a safe window needs start and end to differ
e2e-bad-zone|{"safeWindows":[{"start":"22:00","end":"04:00","timeZone":"Paris, France"}]}|timeZone must be an IANA zone name
e2e-bad-day|{"safeWindows":[{"start":"22:00","end":"04:00","days":["Funday"]}]}|Unsupported value: "Funday"
e2e-bad-cron|{"schedule":"hourly"}|schedule must be a five-field cron expression
e2e-bad-mode|{"mode":"yolo"}|Unsupported value: "yolo"
CASES
  config e2e-full-auto-confirmed '{"mode":"full-auto","confirmFullAuto":true,"safeWindows":[{"start":"22:00","end":"04:00","days":["Saturday"],"timeZone":"Europe/Paris"}]}' \
    | kc apply -f - > "$TMP/cr.out" 2>&1 || { cat "$TMP/cr.out"; return 1; }
  kc delete optimizationconfig e2e-defaults e2e-full-auto-confirmed >/dev/null 2>&1 || true
  echo "3 definitions Established; defaults applied; $refused invalid configs refused by the API server, each with its rule's message"
}
if crd_out="$(crd_check 2>&1)"; then
  pass crds-install-and-validate "$crd_out"
else
  fail crds-install-and-validate "$(tail -n3 <<<"$crd_out" | tr '\n' ' ')"
fi

# ------------------------------------------------------------------ bound to 127.0.0.1
if [[ -d "$E2E_CLUSTER_DIR/pids" ]] && command -v ss >/dev/null; then
  pids=""
  for f in "$E2E_CLUSTER_DIR"/pids/*.pid; do
    [[ -f "$f" ]] && pids+="$(tr -d '[:space:]' < "$f") "
  done
  listeners="$(ss -Hltnp 2>/dev/null | awk -v pids=" $pids " '{
      if (match($0, /pid=[0-9]+/)) { p = substr($0, RSTART + 4, RLENGTH - 4); if (index(pids, " " p " ")) print $4 }
    }' | sort -u)"
  outside="$(grep -vE '^(127\.0\.0\.1|\[::1\]):[0-9]+$' <<<"$listeners" || true)"
  if [[ -z "$listeners" ]]; then
    fail loopback-only "found no listening socket of the cluster's processes ($pids)"
  elif [[ -z "$outside" ]]; then
    pass loopback-only "$(wc -l <<<"$listeners") listening sockets, all on 127.0.0.1"
  else
    fail loopback-only "listening beyond loopback: $(tr '\n' ' ' <<<"$outside")"
  fi
else
  skip loopback-only "not the cluster started by e2e/cluster.sh (no $E2E_CLUSTER_DIR/pids) or no ss"
fi

# ------------------------------------------------------------------ scheduling
# Every pod bound to a node by the real scheduler: PodScheduled true and a Scheduled event
# reported by default-scheduler for it.
kc -n "$NS" get events.events.k8s.io -o json > "$TMP/events.json"
unsched="$(jq -r '.items[] | select((.spec.nodeName // "") == "" or ([.status.conditions[]? | select(.type == "PodScheduled" and .status == "True")] | length) == 0) | .metadata.name' "$TMP/pods.json")"
no_event="$(jq -r --slurpfile ev "$TMP/events.json" '
    ($ev[0].items | map(select(.reason == "Scheduled" and .reportingController == "default-scheduler") | .regarding.uid)) as $uids
    | .items[] | select(.metadata.uid as $u | ($uids | index($u)) == null) | .metadata.name' "$TMP/pods.json")"
npods="$(jq '.items | length' "$TMP/pods.json")"
nnodes_used="$(jq -r '[.items[].spec.nodeName] | unique | length' "$TMP/pods.json")"
if [[ "$npods" -lt 20 ]]; then
  fail scheduler-placed-every-pod "only $npods pods in $NS: was e2e/scenario.sh run?"
elif [[ -n "$unsched" ]]; then
  fail scheduler-placed-every-pod "not scheduled: $(tr '\n' ' ' <<<"$unsched")"
elif [[ -n "$no_event" ]]; then
  fail scheduler-placed-every-pod "no Scheduled event from default-scheduler for: $(tr '\n' ' ' <<<"$no_event")"
else
  pass scheduler-placed-every-pod "$npods pods on $nnodes_used nodes, each with a Scheduled event from default-scheduler"
fi

# The scheduler honoured the constraints: taints, topology spread, anti-affinity.
gpu_nodes="$(jq -c '[.items[] | select(any(.spec.taints[]?; .key == "nvidia.com/gpu")) | .metadata.name]' "$TMP/nodes.json")"
on_gpu="$(jq -r --argjson g "$gpu_nodes" '.items[] | select(.spec.nodeName as $n | $g | index($n)) | select(.metadata.labels.app != "gpu-infer" and .metadata.labels.app != "node-agent") | .metadata.name' "$TMP/pods.json")"
gpu_pod_node="$(jq -r '.items[] | select(.metadata.labels.app == "gpu-infer") | .spec.nodeName' "$TMP/pods.json")"
api_zones="$(jq -r --slurpfile n "$TMP/nodes.json" '
    ($n[0].items | map({(.metadata.name): .metadata.labels["topology.kubernetes.io/zone"]}) | add) as $z
    | [.items[] | select(.metadata.labels.app == "api") | $z[.spec.nodeName]] | unique | length' "$TMP/pods.json")"
cache_nodes="$(jq -r '[.items[] | select(.metadata.labels.app == "cache") | .spec.nodeName] | unique | length' "$TMP/pods.json")"
ds_count="$(jq -r '[.items[] | select(.metadata.labels.app == "node-agent")] | length' "$TMP/pods.json")"
node_count="$(jq '.items | length' "$TMP/nodes.json")"
problems=""
[[ -z "$on_gpu" ]] || problems+="pods without the GPU toleration on GPU nodes: $(tr '\n' ' ' <<<"$on_gpu"); "
jq -e --arg n "$gpu_pod_node" 'index($n) != null' <<<"$gpu_nodes" >/dev/null || problems+="gpu-infer is on '$gpu_pod_node', not a GPU node; "
[[ "$api_zones" -eq 3 ]] || problems+="api spans $api_zones zones, expected 3; "
[[ "$cache_nodes" -eq 2 ]] || problems+="cache pods share a node; "
[[ "$ds_count" -eq "$node_count" ]] || problems+="node-agent has $ds_count pods for $node_count nodes; "
if [[ -z "$problems" ]]; then
  pass scheduler-constraints "taints, zone spread of api, cache anti-affinity, one node-agent per node ($node_count)"
else
  fail scheduler-constraints "$problems"
fi

# ------------------------------------------------------------------ PDB status
pdb_line() {
  kc -n "$NS" get pdb "$1" -o json | jq -r '"\(.status.observedGeneration == .metadata.generation) \(.status.disruptionsAllowed) \(.status.currentHealthy) \(.status.desiredHealthy) \(.status.expectedPods)"'
}
web_pdb="$(pdb_line web)"; api_pdb="$(pdb_line api)"; db_pdb="$(pdb_line db)"
# observed allowed healthy desired expected
if [[ "$web_pdb" == "true 1 6 5 6" && "$api_pdb" == "true 0 3 3 3" && "$db_pdb" == "true 1 3 2 3" ]]; then
  pass pdb-status "web allows 1, api allows 0, db allows 1 (computed by the disruption controller)"
else
  fail pdb-status "observed/allowed/healthy/desired/expected: web=[$web_pdb] api=[$api_pdb] db=[$db_pdb]"
fi

# ------------------------------------------------------------------ Eviction API
# evict POD: posts a policy/v1 Eviction; prints the HTTP status code.
evict() {
  local pod="$1" out
  out="$(kc create --raw "/api/v1/namespaces/$NS/pods/$pod/eviction" -v=6 -f - 2>&1 <<EOF || true
{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"$pod","namespace":"$NS"}}
EOF
)"
  echo "$out" > "$TMP/evict-$pod.log"
  # kubectl -v=6 logs the response: `... verb="POST" url=".../eviction" status="429 Too Many
  # Requests" ...` (structured) or `POST https://.../eviction 429 Too Many Requests in 2 ms`.
  grep -E '/eviction' <<<"$out" | grep -oE '(status="|/eviction"? )[0-9]{3}' | grep -oE '[0-9]{3}$' | tail -n1
}

# wait_web_settled: 6 web pods Running and Ready, none terminating, PDB back to 1 allowed.
wait_web_settled() {
  local i
  for ((i = 0; i < 90; i++)); do
    if [[ "$(kc -n "$NS" get pods -l app=web -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null and .status.phase == "Running" and any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')" -eq 6 \
       && "$(kc -n "$NS" get pods -l app=web --no-headers | wc -l)" -eq 6 \
       && "$(pdb_line web)" == "true 1 6 5 6" ]]; then
      return 0
    fi
    sleep 1
  done
  return 1
}

api_pod="$(jq -r '[.items[] | select(.metadata.labels.app == "api")][0].metadata.name' "$TMP/pods.json")"
code="$(evict "$api_pod")"
if [[ "$code" == 429 ]] && grep -q 'disruption budget' "$TMP/evict-$api_pod.log" \
   && [[ -z "$(kc -n "$NS" get pod "$api_pod" -o jsonpath='{.metadata.deletionTimestamp}')" ]]; then
  pass eviction-refused-by-tight-pdb "429 for $api_pod (PDB api: 0 disruptions allowed); the pod stays"
else
  fail eviction-refused-by-tight-pdb "HTTP ${code:-?} for $api_pod: $(tail -n1 "$TMP/evict-$api_pod.log")"
fi

web_pod="$(jq -r '[.items[] | select(.metadata.labels.app == "web")][0].metadata.name' "$TMP/pods.json")"
code="$(evict "$web_pod")"
if [[ "$code" == 201 ]]; then
  if wait_web_settled && ! kc -n "$NS" get pod "$web_pod" >/dev/null 2>&1; then
    pass eviction-accepted-by-relaxed-pdb "201 for $web_pod (PDB web: 1 allowed); the ReplicaSet replaced it"
  else
    fail eviction-accepted-by-relaxed-pdb "201 for $web_pod but web did not settle with a replacement within 90 s"
  fi
else
  fail eviction-accepted-by-relaxed-pdb "HTTP ${code:-?} for $web_pod: $(tail -n1 "$TMP/evict-$web_pod.log")"
fi

# Cordon the node of a web pod, evict that pod: the replacement must land elsewhere, on a
# schedulable node. Uncordon afterwards (also on failure: trap).
wait_web_settled || true
snapshot
web_pod="$(jq -r '[.items[] | select(.metadata.labels.app == "web" and .metadata.deletionTimestamp == null)][0].metadata.name' "$TMP/pods.json")"
node="$(jq -r --arg p "$web_pod" '.items[] | select(.metadata.name == $p) | .spec.nodeName' "$TMP/pods.json")"
before="$(jq -r '.items[] | select(.metadata.labels.app == "web") | .metadata.name' "$TMP/pods.json" | sort)"
kc cordon "$node" >/dev/null && cordoned="$node"
code="$(evict "$web_pod")"
if [[ "$code" != 201 ]]; then
  fail replacement-avoids-cordoned-node "HTTP ${code:-?} evicting $web_pod on cordoned $node: $(tail -n1 "$TMP/evict-$web_pod.log")"
elif ! wait_web_settled; then
  fail replacement-avoids-cordoned-node "web did not settle within 90 s after evicting $web_pod from cordoned $node"
else
  kc -n "$NS" get pods -l app=web -o json > "$TMP/web-after.json"
  new_pods="$(jq -r '.items[].metadata.name' "$TMP/web-after.json" | sort | comm -13 <(echo "$before") -)"
  new_count="$(grep -c . <<<"$new_pods" || true)"
  landed="$(for p in $new_pods; do jq -r --arg p "$p" '.items[] | select(.metadata.name == $p) | .spec.nodeName' "$TMP/web-after.json"; done | tr '\n' ' ')"
  unschedulable_targets=""
  for n in $landed; do
    [[ "$(kc get node "$n" -o jsonpath='{.spec.unschedulable}')" == "true" ]] && unschedulable_targets+="$n "
  done
  if [[ "$new_count" -eq 1 && " $landed " != *" $node "* && -z "$unschedulable_targets" ]]; then
    pass replacement-avoids-cordoned-node "evicted $web_pod from cordoned $node; replacement $(tr -d '\n' <<<"$new_pods") landed on ${landed% }"
  else
    fail replacement-avoids-cordoned-node "new pods [$(tr '\n' ' ' <<<"$new_pods")] on [$landed], cordoned $node"
  fi
fi
if [[ -n "$cordoned" ]]; then
  kc uncordon "$cordoned" >/dev/null && cordoned=""
fi

# ------------------------------------------------------------------ kube-compactor plan + check
wait_web_settled || true
if [[ ! -x "$KUBE_COMPACTOR_BIN" ]]; then
  skip plan-accepted-by-checker "no kube-compactor binary at $KUBE_COMPACTOR_BIN (cargo build --release builds it)"
elif ! "$KUBE_COMPACTOR_BIN" check --help >/dev/null 2>&1; then
  skip plan-accepted-by-checker "$KUBE_COMPACTOR_BIN has no 'check' subcommand yet"
else
  kc get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json > "$TMP/cluster.json"
  if ! "$KUBE_COMPACTOR_BIN" plan --from "$TMP/cluster.json" --output json > "$TMP/plan.json" 2> "$TMP/plan.err"; then
    fail plan-accepted-by-checker "kube-compactor plan failed: $(tail -n3 "$TMP/plan.err" | tr '\n' ' ')"
  elif "$KUBE_COMPACTOR_BIN" check --from "$TMP/cluster.json" --plan "$TMP/plan.json" > "$TMP/check.out" 2>&1; then
    pass plan-accepted-by-checker "$(jq '.items | length' "$TMP/cluster.json") objects; kube-compactor check: $(head -n1 "$TMP/check.out")"
  else
    fail plan-accepted-by-checker "kube-compactor check refused the plan: $(tail -n5 "$TMP/check.out" | tr '\n' ' ')"
  fi
fi

# ------------------------------------------------------------------ metrics.k8s.io
# quantity Q: prints Q in base units (cores for cpu, bytes for memory) as a float.
quantity() {
  awk -v q="$1" 'BEGIN {
    n = q; s = ""; if (match(q, /[a-zA-Z]+$/)) { n = substr(q, 1, RSTART - 1); s = substr(q, RSTART) }
    m["n"] = 1e-9; m["u"] = 1e-6; m["m"] = 1e-3; m[""] = 1; m["k"] = 1e3; m["M"] = 1e6; m["G"] = 1e9
    m["Ki"] = 1024; m["Mi"] = 1048576; m["Gi"] = 1073741824
    if (!(s in m)) { print "nan"; exit 1 }
    printf "%.6f\n", n * m[s] }'
}
if ! kc get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1; then
  skip metrics-usage "metrics.k8s.io is not served (metrics-server was not built or not enabled)"
else
  got=""
  for ((i = 0; i < 90; i++)); do
    if got="$(kc get --raw "/apis/metrics.k8s.io/v1beta1/namespaces/$NS/pods/usage-probe" 2>/dev/null)" \
       && [[ "$(jq '.containers | length' <<<"$got")" -gt 0 ]]; then
      break
    fi
    got=""
    sleep 2
  done
  if [[ -z "$got" ]]; then
    fail metrics-usage "metrics.k8s.io returned nothing for $NS/usage-probe within 180 s"
  else
    cpu="$(jq -r '.containers[] | select(.name == "main") | .usage.cpu' <<<"$got")"
    mem="$(jq -r '.containers[] | select(.name == "main") | .usage.memory' <<<"$got")"
    cpu_v="$(quantity "$cpu")"; mem_v="$(quantity "$mem")"
    web_mem="$(kc get --raw "/apis/metrics.k8s.io/v1beta1/namespaces/$NS/pods" | jq -r '[.items[] | select(.metadata.name | startswith("web-")) | .containers[0].usage.memory] | unique | join(",")')"
    web_mem_ok=1
    for q in ${web_mem//,/ }; do [[ "$(quantity "$q")" == "314572800.000000" ]] || web_mem_ok=0; done
    [[ -n "$web_mem" ]] || web_mem_ok=0
    node_metrics="$(kc get --raw /apis/metrics.k8s.io/v1beta1/nodes | jq '.items | length')"
    if awk -v c="$cpu_v" -v m="$mem_v" 'BEGIN { exit !(c >= 0.225 && c <= 0.275 && m == 314572800) }' \
       && [[ $web_mem_ok -eq 1 && "$node_metrics" -eq "$node_count" ]]; then
      pass metrics-usage "usage-probe cpu=$cpu memory=$mem (configured 250m, 300Mi); web memory $web_mem (annotations); $node_metrics node metrics"
    else
      fail metrics-usage "usage-probe cpu=$cpu memory=$mem (want ~250m, 300Mi); web memory [$web_mem] (want 300Mi from their annotations); node metrics $node_metrics of $node_count"
    fi
  fi
fi

# ------------------------------------------------------------------ the live examples
# examples/observe.rs, plan.rs and apply.rs (apply as a dry run: nothing is changed) against
# this cluster. Its context (the one kwokctl writes) is not a kind context, so they run with
# --allow-context naming it, and must refuse it without.
EX_KCFG="${KUBECONFIG:-$E2E_KUBECONFIG}"
ex_ctx="$(kc config current-context 2>/dev/null || true)"
ex_server="$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null || true)"
ex_dir="${KUBE_COMPACTOR_EXAMPLES_DIR:-}"
ex_build_failed=""
if [[ -z "$ex_dir" ]] && command -v cargo >/dev/null; then
  # Built now (a no-op after `cargo test`, which builds the examples), so that a stale
  # binary from an earlier build is never what runs.
  if (cd "$REPO_DIR" && cargo build -j2 --example observe --example plan --example apply) > "$TMP/ex-build.log" 2>&1; then
    ex_dir="$REPO_DIR/target/debug/examples"
  else
    ex_build_failed="cargo build of the examples failed: $(tail -n3 "$TMP/ex-build.log" | tr '\n' ' ')"
  fi
fi
# ex NAME ARGS...: runs examples/NAME.rs against this cluster; stdout and stderr go to
# $TMP/ex-NAME.out and $TMP/ex-NAME.err; the exit status is the example's.
ex() {
  local name="$1"; shift
  "$ex_dir/$name" --kubeconfig "$EX_KCFG" "$@" > "$TMP/ex-$name.out" 2> "$TMP/ex-$name.err"
}
# ex_header NAME: the example printed the context and the server URL first.
ex_header() {
  [[ "$(sed -n 1p "$TMP/ex-$1.out")" == "context: $ex_ctx" && "$(sed -n 2p "$TMP/ex-$1.out")" == "server:  $ex_server" ]] \
    || { echo "$1 did not print 'context: $ex_ctx' and 'server:  $ex_server' first: $(head -n2 "$TMP/ex-$1.out" | tr '\n' ' ')"; return 1; }
}
ex_marked() { # cordoned nodes and nodes carrying an optimizer.io marker
  kc get nodes -o json | jq -r '[.items[] | select(.spec.unschedulable == true or .metadata.annotations["optimizer.io/cordoned-by"] != null or .metadata.annotations["optimizer.io/evictions"] != null) | .metadata.name] | join(" ")'
}
examples_check() {
  local rc nodes moves kept evictions before after
  nodes="$(kc get nodes -o json | jq '.items | length')"
  before="$(ex_marked)"
  rc=0; ex observe --allow-context "$ex_ctx" || rc=$?
  [[ $rc -eq 0 ]] || { echo "observe exited $rc: $(tail -n2 "$TMP/ex-observe.err" | tr '\n' ' ')"; return 1; }
  ex_header observe || return 1
  grep -q "^read in [0-9]* list requests: $nodes nodes, " "$TMP/ex-observe.out" \
    || { echo "observe did not report $nodes nodes: $(sed -n 3p "$TMP/ex-observe.out")"; return 1; }
  grep -q '^metrics: ' "$TMP/ex-observe.out" || { echo "observe printed no metrics state"; return 1; }
  grep -q '^efficiency score: ' "$TMP/ex-observe.out" || { echo "observe printed no utilisation summary"; return 1; }
  rc=0; ex plan --allow-context "$ex_ctx" --out "$TMP/ex-plan.json" || rc=$?
  [[ $rc -eq 0 ]] || { echo "plan exited $rc: $(tail -n2 "$TMP/ex-plan.err" | tr '\n' ' ')"; return 1; }
  ex_header plan || return 1
  jq -e '(.drain | type) == "array" and (.moves | type) == "array" and (.kept | length) > 0' "$TMP/ex-plan.json" >/dev/null \
    || { echo "plan --out wrote no plan JSON"; return 1; }
  moves="$(jq '.moves | length' "$TMP/ex-plan.json")"
  kept="$(jq '.kept | length' "$TMP/ex-plan.json")"
  grep -qx "Kept nodes ($kept):" "$TMP/ex-plan.out" || { echo "plan's table does not list the $kept kept nodes of its JSON"; return 1; }
  rc=0; ex apply --allow-context "$ex_ctx" --plan "$TMP/ex-plan.json" || rc=$?
  [[ $rc -eq 0 ]] || { echo "apply (dry run) exited $rc: $(tail -n2 "$TMP/ex-apply.err" | tr '\n' ' ')"; return 1; }
  ex_header apply || return 1
  grep -q '^# dry run of plan ' "$TMP/ex-apply.out" || { echo "apply printed no dry run"; return 1; }
  evictions="$(grep -c '^POST /api/v1/namespaces/.*/eviction' "$TMP/ex-apply.out" || true)"
  [[ "$evictions" -eq "$moves" ]] || { echo "the dry run shows $evictions evictions for the plan's $moves moves"; return 1; }
  after="$(ex_marked)"
  [[ "$before" == "$after" ]] || { echo "nodes cordoned or marked before [$before], after [$after]: the dry run changed the cluster"; return 1; }
  echo "context $ex_ctx allowed; observe: $(sed -n 3p "$TMP/ex-observe.out" | cut -c1-80); plan: $(jq '.drain | length' "$TMP/ex-plan.json") drained, $moves moves; apply dry run: $(grep -c '^[A-Z]* /' "$TMP/ex-apply.out" || true) API calls, $evictions evictions, nothing changed"
}
# The guard refuses the context before any request: without --allow-context, and with
# --allow-context naming another context.
examples_guard_check() {
  local rc=0
  ex observe || rc=$?
  [[ $rc -ne 0 ]] || { echo "observe ran on $ex_ctx without --allow-context"; return 1; }
  ex_header observe || return 1
  grep -qF "refusing context \"$ex_ctx\"" "$TMP/ex-observe.err" && grep -qF -- "pass --allow-context $ex_ctx" "$TMP/ex-observe.err" \
    || { echo "observe exited $rc without the guard's message: $(tail -n2 "$TMP/ex-observe.err" | tr '\n' ' ')"; return 1; }
  rc=0
  ex plan --allow-context "kind-$ex_ctx" || rc=$?
  [[ $rc -ne 0 ]] || { echo "plan ran on $ex_ctx with --allow-context kind-$ex_ctx"; return 1; }
  grep -qF -- "--allow-context names \"kind-$ex_ctx\", not this context" "$TMP/ex-plan.err" \
    || { echo "plan exited $rc without the guard's message: $(tail -n2 "$TMP/ex-plan.err" | tr '\n' ' ')"; return 1; }
  echo "exit $rc; $(grep -o 'refusing context [^:]*' "$TMP/ex-observe.err" | head -n1), with how to allow it"
}
if [[ -n "$ex_build_failed" ]]; then
  fail examples-against-e2e "$ex_build_failed"
  fail examples-refuse-unallowed-context "$ex_build_failed"
elif [[ -z "$ex_dir" ]]; then
  skip examples-against-e2e "no cargo to build the examples and no KUBE_COMPACTOR_EXAMPLES_DIR"
  skip examples-refuse-unallowed-context "no cargo to build the examples and no KUBE_COMPACTOR_EXAMPLES_DIR"
elif [[ -z "$ex_ctx" || -z "$ex_server" ]]; then
  fail examples-against-e2e "no current context or server in $EX_KCFG"
  fail examples-refuse-unallowed-context "no current context or server in $EX_KCFG"
else
  if ex_out="$(examples_check 2>&1)"; then
    pass examples-against-e2e "$ex_out"
  else
    fail examples-against-e2e "$(tail -n3 <<<"$ex_out" | tr '\n' ' ')"
  fi
  if [[ "$ex_ctx" == kind-?* ]]; then
    skip examples-refuse-unallowed-context "the context $ex_ctx is a kind context: the guard lets it through"
  elif ex_out="$(examples_guard_check 2>&1)"; then
    pass examples-refuse-unallowed-context "$ex_out"
  else
    fail examples-refuse-unallowed-context "$(tail -n3 <<<"$ex_out" | tr '\n' ' ')"
  fi
fi

# ------------------------------------------------------------------ live snapshot and executor
# These change the cluster (cordons, evictions); they run last, and leave every node uncordoned.
KCFG="${KUBECONFIG:-$E2E_KUBECONFIG}"
kcomp() { "$KUBE_COMPACTOR_BIN" "$@" --kubeconfig "$KCFG"; }
# Every pod of the namespace bound, Running, Ready, none terminating; every budget's status
# observed and its pods all healthy.
settled() {
  kc -n "$NS" get pods -o json | jq -e '[.items[] | select(.metadata.deletionTimestamp != null or .spec.nodeName == null or .status.phase != "Running" or (any(.status.conditions[]?; .type == "Ready" and .status == "True") | not))] | length == 0' >/dev/null \
    && kc -n "$NS" get pdb -o json | jq -e '[.items[] | select(.status.observedGeneration != .metadata.generation or .status.currentHealthy != .status.expectedPods)] | length == 0' >/dev/null
}
wait_settled() {
  local i
  for ((i = 0; i < 120; i++)); do settled && return 0; sleep 1; done
  return 1
}
uncordon_all() {
  local n
  for n in $(kc get nodes -o jsonpath='{range .items[?(@.spec.unschedulable==true)]}{.metadata.name}{" "}{end}'); do
    kc uncordon "$n" >/dev/null
  done
  kc get nodes -o name | xargs -r -I{} "$E2E_BIN/kubectl" --kubeconfig "$KCFG" annotate {} optimizer.io/cordoned-by- optimizer.io/evictions- >/dev/null 2>&1 || true
}
# Spreads the movable workloads again (kube-scheduler puts the new pods on the emptiest
# nodes), so that the next plan has moves.
spread() {
  uncordon_all
  kc -n "$NS" rollout restart deployment/web deployment/worker >/dev/null
  kc -n "$NS" rollout status deployment/web --timeout=120s >/dev/null
  kc -n "$NS" rollout status deployment/worker --timeout=120s >/dev/null
  wait_settled
}
pdb_allowed_is() { # NAME N: waits until budget NAME allows N disruptions
  local i
  for ((i = 0; i < 60; i++)); do
    [[ "$(kc -n "$NS" get pdb "$1" -o go-template='{{if eq .status.observedGeneration .metadata.generation}}{{.status.disruptionsAllowed}}{{end}}')" == "$2" ]] && return 0
    sleep 1
  done
  return 1
}
# spread_and_plan FILE: spreads the workloads, writes `plan --live` to FILE, prints its moves.
spread_and_plan() {
  spread >/dev/null || true
  kcomp plan --live --output json > "$1"
  jq '.moves | length' "$1"
}
# left_on_drained PLAN: pods other than DaemonSet pods still on the plan's drained nodes, plus
# 1000 for each drained node that is not cordoned (0: the drain is done).
left_on_drained() {
  local n c left=0
  for n in $(jq -r '.drain[].node' "$1"); do
    c="$(kc get pods -A --field-selector "spec.nodeName=$n" -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null and ((.metadata.ownerReferences // []) | any(.kind == "DaemonSet") | not))] | length')"
    left=$((left + c))
    [[ "$(kc get node "$n" -o jsonpath='{.spec.unschedulable}')" == true ]] || left=$((left + 1000))
  done
  echo "$left"
}
our_marked_nodes() {
  kc get nodes -o json | jq -r '[.items[] | select(.metadata.annotations["optimizer.io/cordoned-by"] != null) | .metadata.name] | join(" ")'
}

if [[ ! -x "$KUBE_COMPACTOR_BIN" ]] || ! "$KUBE_COMPACTOR_BIN" apply --help >/dev/null 2>&1; then
  skip live-and-apply "no kube-compactor binary with 'apply' at $KUBE_COMPACTOR_BIN"
else
  # --- plan --live equals plan --from on a dump of the same cluster
  wait_settled || true
  kc get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json > "$TMP/live-dump.json"
  if ! kcomp plan --live --output json > "$TMP/live-plan.json" 2> "$TMP/live-plan.err"; then
    fail live-plan-equals-dump "plan --live failed: $(tail -n3 "$TMP/live-plan.err" | tr '\n' ' ')"
  elif "$KUBE_COMPACTOR_BIN" plan --from "$TMP/live-dump.json" --output json > "$TMP/dump-plan.json" \
       && diff <(jq -S . "$TMP/live-plan.json") <(jq -S . "$TMP/dump-plan.json") > "$TMP/live-diff.txt"; then
    pass live-plan-equals-dump "identical JSON plans: $(jq '.drain | length' "$TMP/live-plan.json") drained, $(jq '.moves | length' "$TMP/live-plan.json") moves"
  else
    fail live-plan-equals-dump "plans differ: $(head -n6 "$TMP/live-diff.txt" | tr '\n' ' ')"
  fi

  # --- the same binary as a kubectl plugin
  mkdir -p "$TMP/plugins"
  cp "$KUBE_COMPACTOR_BIN" "$TMP/plugins/kubectl-compactor"
  if PATH="$TMP/plugins:$PATH" "$E2E_BIN/kubectl" compactor plan --live --output json --kubeconfig "$KCFG" > "$TMP/plugin-plan.json" 2> "$TMP/plugin.err" \
     && diff <(jq -S . "$TMP/plugin-plan.json") <(jq -S . "$TMP/live-plan.json") >/dev/null; then
    pass kubectl-plugin "kubectl compactor plan --live prints the same plan"
  else
    fail kubectl-plugin "$(tail -n2 "$TMP/plugin.err" | tr '\n' ' ')"
  fi

  # --- a plan whose budgets were tightened since is refused (stale); relaxed, it executes
  nmoves="$(spread_and_plan "$TMP/apply-plan.json")"
  if [[ "$nmoves" -eq 0 ]]; then
    fail apply-refuses-stale-plan "the plan after spreading the workloads has no moves"
  else
    budgets="$(jq -r '[.moves[].workload.name] | unique | map(select(. == "web" or . == "db" or . == "worker")) | join(" ")' "$TMP/apply-plan.json")"
    for b in web db; do kc -n "$NS" patch pdb "$b" --type merge -p '{"spec":{"maxUnavailable":0}}' >/dev/null; done
    pdb_allowed_is web 0 && pdb_allowed_is db 0 || true
    uids_before="$(kc -n "$NS" get pods -o jsonpath='{.items[*].metadata.uid}' | tr ' ' '\n' | sort)"
    rc=0
    kcomp apply --plan "$TMP/apply-plan.json" --execute > "$TMP/apply-refused.out" 2>&1 || rc=$?
    uids_after="$(kc -n "$NS" get pods -o jsonpath='{.items[*].metadata.uid}' | tr ' ' '\n' | sort)"
    cordoned_now="$(kc get nodes -o jsonpath='{range .items[?(@.spec.unschedulable==true)]}{.metadata.name}{" "}{end}')"
    if [[ $rc -eq 3 ]] && grep -qi 'budget\|disruption' "$TMP/apply-refused.out" \
       && [[ "$uids_before" == "$uids_after" && -z "$cordoned_now" ]]; then
      pass apply-refuses-stale-plan "budgets web and db tightened to 0: exit 3, nothing cordoned or evicted: $(grep -m1 -i 'budget\|disruption' "$TMP/apply-refused.out" | cut -c1-160)"
    else
      fail apply-refuses-stale-plan "exit $rc, cordoned [$cordoned_now], pods changed: $([[ "$uids_before" == "$uids_after" ]] && echo no || echo yes); $(head -n3 "$TMP/apply-refused.out" | tr '\n' ' ')"
    fi
    for b in web db; do kc -n "$NS" patch pdb "$b" --type merge -p '{"spec":{"maxUnavailable":1}}' >/dev/null; done
    pdb_allowed_is web 1 && pdb_allowed_is db 1 || true
    rc=0
    kcomp apply --plan "$TMP/apply-plan.json" --execute --output json --wave-timeout 180 > "$TMP/apply.json" 2> "$TMP/apply.err" || rc=$?
    wait_settled || true
    drained="$(jq -r '[.drain[].node] | join(" ")' "$TMP/apply-plan.json")"
    left="$(left_on_drained "$TMP/apply-plan.json")"
    below="$(kc get pdb -A -o json | jq '[.items[] | select(.status.currentHealthy < .status.desiredHealthy)] | length')"
    still_cordoned_kept="$(jq -r '.cordonOnly[]?' "$TMP/apply-plan.json" | while read -r n; do if [[ "$(kc get node "$n" -o jsonpath='{.spec.unschedulable}')" == true ]]; then echo "$n"; fi; done | tr '\n' ' ')"
    if [[ $rc -eq 0 && "$(jq -r .outcome "$TMP/apply.json")" == completed && $left -eq 0 && "$below" -eq 0 && -z "$still_cordoned_kept" ]]; then
      pass apply-executes-plan "budgets relaxed: $(jq .evictions "$TMP/apply.json") evictions in $(jq .wavesCompleted "$TMP/apply.json") waves; $(jq .fidelity.onPredicted "$TMP/apply.json")/$(jq .fidelity.evictions "$TMP/apply.json") on the predicted node, $(jq .fidelity.onTied "$TMP/apply.json") tied, $(jq .fidelity.pending "$TMP/apply.json") pending; drained [$drained] empty and cordoned; 0 budgets below desired"
    else
      fail apply-executes-plan "exit $rc, outcome $(jq -r .outcome "$TMP/apply.json" 2>/dev/null), pods left on drained nodes or uncordoned: $left, budgets below desired: $below, kept still cordoned: [$still_cordoned_kept]; $(tail -n3 "$TMP/apply.err" | tr '\n' ' ')"
    fi
  fi

  # --- killed mid-plan, rerun: finishes, no pod evicted twice
  nmoves="$(spread_and_plan "$TMP/resume-plan.json")"
  if [[ "$nmoves" -lt 2 ]]; then
    fail apply-resumes-after-kill "the plan after spreading the workloads has $nmoves moves (2 needed)"
  else
    # The binary itself in the background (not a function: its subshell would be killed
    # and the binary would run on).
    "$KUBE_COMPACTOR_BIN" apply --plan "$TMP/resume-plan.json" --execute --kubeconfig "$KCFG" > "$TMP/run1.out" 2>&1 &
    pid=$!
    for ((i = 0; i < 600; i++)); do grep -q '^evicted ' "$TMP/run1.out" && break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    run1="$(grep '^evicted ' "$TMP/run1.out" | awk '{print $2}' | sort || true)"
    n1="$(grep -c '^evicted ' "$TMP/run1.out" || true)"
    rc=0
    kcomp apply --plan "$TMP/resume-plan.json" --execute --output json --wave-timeout 180 > "$TMP/run2.json" 2> "$TMP/run2.err" || rc=$?
    run2="$(jq -r '.landings[].pod' "$TMP/run2.json" 2>/dev/null | sort || true)"
    twice="$(comm -12 <(echo "$run1") <(echo "$run2") | tr '\n' ' ')"
    resumed="$(jq .resumed "$TMP/run2.json" 2>/dev/null)"
    ev2="$(jq .evictions "$TMP/run2.json" 2>/dev/null)"
    # The kill may land after an eviction and before its line: the rerun may resume more
    # than the lines show, never fewer; every move is evicted exactly once over both runs.
    if [[ $rc -eq 0 && "$(jq -r .outcome "$TMP/run2.json")" == completed && -z "$twice" && "$resumed" -ge "$n1" && $((resumed + ev2)) -eq "$nmoves" && "$n1" -ge 1 ]]; then
      pass apply-resumes-after-kill "killed after $n1 of $nmoves evictions (printed); the rerun resumed $resumed and made the other $ev2; no pod evicted twice"
    else
      fail apply-resumes-after-kill "exit $rc; first run evicted $n1 [$run1], rerun resumed ${resumed:-?} and evicted ${ev2:-?} of $nmoves; evicted twice: [$twice]; $(tail -n3 "$TMP/run2.err" | tr '\n' ' ')"
    fi
  fi
  wait_settled || true

  # --- stdout closed under a running apply (`| head -n 1`): the run goes on to its end, its
  # progress on stderr (the old code panicked at the first line it could not print, leaving
  # nodes cordoned and the plan half done)
  nmoves="$(spread_and_plan "$TMP/closed-plan.json")"
  if [[ "$nmoves" -lt 2 ]]; then
    fail apply-survives-closed-stdout "the plan after spreading the workloads has $nmoves moves (2 needed)"
  else
    set +o pipefail
    kcomp apply --plan "$TMP/closed-plan.json" --execute --wave-timeout 180 2> "$TMP/closed.err" | head -n 1 > "$TMP/closed.out"
    set -o pipefail
    wait_settled || true
    drained="$(jq -r '[.drain[].node] | join(" ")' "$TMP/closed-plan.json")"
    left="$(left_on_drained "$TMP/closed-plan.json")"
    evicted="$(grep -c '^kube-compactor: evicted ' "$TMP/closed.err" || true)"
    if grep -q 'progress output failed; the run goes on' "$TMP/closed.err" && [[ $left -eq 0 && -s "$TMP/closed.out" ]] \
       && ! grep -q 'panicked' "$TMP/closed.err"; then
      pass apply-survives-closed-stdout "stdout closed after its first line ($(cut -c1-60 "$TMP/closed.out")); the run went on: $evicted evictions reported on stderr, drained [$drained] empty and cordoned"
    else
      fail apply-survives-closed-stdout "pods left on drained nodes or uncordoned: $left; $(tail -n3 "$TMP/closed.err" | tr '\n' ' ')"
    fi
  fi
  wait_settled || true

  # --- a replacement that cannot be scheduled: the executor stops and uncordons its nodes
  nmoves="$(spread_and_plan "$TMP/pending-plan.json")"
  if [[ "$(jq '[.moves[] | select(.workload.name == "web" or .workload.name == "worker")] | length' "$TMP/pending-plan.json")" -lt 1 ]]; then
    fail apply-stops-on-pending "the plan after spreading the workloads moves no web or worker pod"
  else
    # Replacements come from the ReplicaSets' templates, which the plan does not read: with
    # the Deployments paused, a nodeSelector no node has makes every replacement
    # unschedulable while the pods the plan moves stay as they were.
    kc -n "$NS" rollout pause deployment/web deployment/worker >/dev/null
    nowhere='{"spec":{"template":{"spec":{"nodeSelector":{"e2e.kube-compactor.io/nowhere":"true"}}}}}'
    for rs in $(kc -n "$NS" get rs -o jsonpath='{range .items[?(@.spec.replicas>0)]}{.metadata.name}{" "}{end}'); do
      case "$rs" in web-*|worker-*) kc -n "$NS" patch rs "$rs" --type merge -p "$nowhere" >/dev/null ;; esac
    done
    rc=0
    kcomp apply --plan "$TMP/pending-plan.json" --execute --pending-grace 3 --wave-timeout 90 > "$TMP/pending.out" 2>&1 || rc=$?
    for rs in $(kc -n "$NS" get rs -o jsonpath='{range .items[?(@.spec.replicas>0)]}{.metadata.name}{" "}{end}'); do
      case "$rs" in web-*|worker-*) kc -n "$NS" patch rs "$rs" --type merge -p '{"spec":{"template":{"spec":{"nodeSelector":null}}}}' >/dev/null ;; esac
    done
    kc -n "$NS" delete pods --field-selector=status.phase=Pending >/dev/null 2>&1 || true
    kc -n "$NS" rollout resume deployment/web deployment/worker >/dev/null
    marked="$(our_marked_nodes)"
    ours_cordoned="$(kc get nodes -o json | jq -r '[.items[] | select(.spec.unschedulable == true and .metadata.annotations["optimizer.io/cordoned-by"] != null) | .metadata.name] | join(" ")')"
    if [[ $rc -eq 4 ]] && grep -q 'Pending' "$TMP/pending.out" && [[ -z "$marked" && -z "$ours_cordoned" ]]; then
      pass apply-stops-on-pending "exit 4: $(grep -m1 '^stopping' "$TMP/pending.out" | cut -c1-160); every node it cordoned uncordoned"
    else
      fail apply-stops-on-pending "exit $rc; still marked [$marked]; $(tail -n4 "$TMP/pending.out" | tr '\n' ' ')"
    fi
  fi
  uncordon_all
  wait_settled || true
fi


# ------------------------------------------------------------------ the controller
# `kube-compactor controller` as a process whose API user is the deploy/ service account
# (kubeconfig impersonation: the ClusterRole and the leader-election Role of deploy/rbac.yaml
# are all it has), taken from observe (a report) to manual (a plan that waits) to approved
# (it executes); the leader is killed mid-plan and a standby finishes it.
ctl_pids=""
ctl_cleanup() {
  local p
  for p in $ctl_pids; do kill -9 "$p" 2>/dev/null || true; done
  ctl_pids=""
}
trap 'ctl_cleanup; cleanup' EXIT
SA_KCFG="$TMP/sa.kubeconfig"
CTL_NS=kube-compactor
CTL_CONFIG=e2e-ctl
# ctl_start NAME PORT: a replica named NAME, /healthz on 127.0.0.1:PORT, /metrics on PORT+1;
# its log in $TMP/ctl-NAME.log.
ctl_start() {
  RUST_LOG=info "$KUBE_COMPACTOR_BIN" controller --kubeconfig "$SA_KCFG" --identity "$1" \
    --namespace "$CTL_NS" --health-addr "127.0.0.1:$2" --metrics-addr "127.0.0.1:$(($2 + 1))" \
    --lease-duration 4 --wave-timeout 120 > "$TMP/ctl-$1.log" 2>&1 &
  ctl_last=$!
  ctl_pids="$ctl_pids $ctl_last"
}
# ctl_wait SECONDS COMMAND...: until COMMAND succeeds (every 0.5 s).
ctl_wait() {
  local n=$(($1 * 2)) i; shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
ctl_plans() { kc -n "$CTL_NS" get migrationplans -l "optimizer.io/config=$CTL_CONFIG" -o json; }
ctl_reports() { kc -n "$CTL_NS" get optimizationreports -l "optimizer.io/config=$CTL_CONFIG" -o json; }
ctl_events() { # KIND NAME: the reasons of kube-compactor's Events about that object
  kc get events.events.k8s.io -A -o json \
    | jq -r --arg k "$1" --arg n "$2" '[.items[] | select(.reportingController == "kube-compactor" and .regarding.kind == $k and .regarding.name == $n) | .reason] | unique | join(" ")'
}
ctl_forbidden() { grep -il 'forbidden' "$TMP"/ctl-*.log 2>/dev/null | xargs -r -n1 basename | tr '\n' ' '; }
ctl_has_report() { [[ -n "$(kc get optimizationconfig "$CTL_CONFIG" -o jsonpath='{.status.lastReport}')" ]]; }
ctl_plan_phase_is() { # PHASE-REGEX: the config's first plan is in such a phase
  [[ "$(ctl_plans | jq -r '.items[0].status.phase // ""')" =~ ^($1)$ ]]
}
ctl_plan_named_phase_is() { # PLAN PHASE-REGEX
  [[ "$(kc -n "$CTL_NS" get migrationplan "$1" -o jsonpath='{.status.phase}')" =~ ^($2)$ ]]
}
ctl_evicted() { grep -o 'evicted [^ ]* from' "$1" 2>/dev/null | awk '{print $2}' | sort -u; }

controller_observe_check() {
  kc apply -f "$REPO_DIR/deploy/crds.yaml" -f "$REPO_DIR/deploy/namespace.yaml" \
    -f "$REPO_DIR/deploy/serviceaccount.yaml" -f "$REPO_DIR/deploy/rbac.yaml" > "$TMP/deploy.out" 2>&1 \
    || { echo "deploy/ does not apply: $(tail -n2 "$TMP/deploy.out" | tr '\n' ' ')"; return 1; }
  kc wait --for=condition=Established crd/optimizationconfigs.optimizer.io \
    crd/migrationplans.optimizer.io crd/optimizationreports.optimizer.io --timeout=60s >/dev/null \
    || { echo "CRDs not Established within 60 s"; return 1; }
  kc config view --raw --flatten -o json \
    | jq --arg sa "system:serviceaccount:$CTL_NS:kube-compactor" '.users[].user.as = $sa' > "$SA_KCFG"
  local who
  who="$("$E2E_BIN/kubectl" --kubeconfig "$SA_KCFG" auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)"
  [[ "$who" == "system:serviceaccount:$CTL_NS:kube-compactor" ]] || { echo "impersonation failed: $who"; return 1; }
  ctl_start ctl-a 18480
  ctl_a_pid=$ctl_last
  ctl_wait 30 curl -sf http://127.0.0.1:18480/readyz \
    || { echo "ctl-a not ready within 30 s: $(tail -n3 "$TMP/ctl-ctl-a.log" | tr '\n' ' ')"; return 1; }
  ctl_wait 30 grep -q 'leading' "$TMP/ctl-ctl-a.log" || { echo "ctl-a did not take the lease"; return 1; }
  # A schedule that is not due for a long time: analyses come from the spec changes only.
  kc apply -f - > /dev/null <<YAML || { echo "the config was refused"; return 1; }
apiVersion: optimizer.io/v1alpha1
kind: OptimizationConfig
metadata:
  name: $CTL_CONFIG
spec:
  mode: observe
  schedule: "0 0 1 1 *"
  safetyThreshold: aggressive
  targetNamespaces: [$NS]
  reportHistory: 2
YAML
  ctl_wait 30 ctl_has_report \
    || { echo "no report within 30 s: $(tail -n3 "$TMP/ctl-ctl-a.log" | tr '\n' ' ')"; return 1; }
  local status report nodes
  status="$(kc get optimizationconfig "$CTL_CONFIG" -o json)"
  report="$(jq -r .status.lastReport <<<"$status")"
  nodes="$(kc get nodes -o json | jq '.items | length')"
  [[ "$(ctl_reports | jq --arg r "$report" '[.items[] | select(.metadata.name == $r)] | length')" == 1 ]] \
    || { echo "status.lastReport $report is not a report of the config"; return 1; }
  [[ "$(jq .status.nodeCount <<<"$status")" == "$nodes" && "$(jq -r .status.phase <<<"$status")" == Idle ]] \
    || { echo "status: $(jq -c '.status | {phase, nodeCount, workloadCount}' <<<"$status"), expected Idle and $nodes nodes"; return 1; }
  [[ "$(ctl_plans | jq '.items | length')" == 0 ]] || { echo "observe mode made a plan"; return 1; }
  [[ " $(ctl_events OptimizationConfig "$CTL_CONFIG") " == *" AnalysisCompleted "* ]] || { echo "no AnalysisCompleted event"; return 1; }
  curl -sf http://127.0.0.1:18481/metrics > "$TMP/ctl-metrics.txt" || { echo "no /metrics"; return 1; }
  grep -qx "kube_compactor_nodes_total{config=\"$CTL_CONFIG\"} $nodes" "$TMP/ctl-metrics.txt" \
    || { echo "/metrics lacks kube_compactor_nodes_total{config=\"$CTL_CONFIG\"} $nodes: $(grep nodes_total "$TMP/ctl-metrics.txt" | tr '\n' ' ')"; return 1; }
  echo "as the service account: report $report ($(kc -n "$CTL_NS" get optimizationreport "$report" -o jsonpath='{.spec.summary}' | cut -c1-90)); phase Idle, no plan; AnalysisCompleted event; /metrics nodes_total $nodes"
}

controller_manual_check() {
  local uids_before uids_after plan status
  uids_before="$(kc -n "$NS" get pods -o jsonpath='{.items[*].metadata.uid}' | tr ' ' '\n' | sort)"
  kc patch optimizationconfig "$CTL_CONFIG" --type merge -p '{"spec":{"mode":"manual"}}' >/dev/null
  ctl_wait 30 ctl_plan_phase_is Pending \
    || { echo "no Pending plan within 30 s: $(ctl_plans | jq -c '[.items[] | {name: .metadata.name, status: .status.phase, message: .status.message}]'); $(tail -n2 "$TMP/ctl-ctl-a.log" | tr '\n' ' ')"; return 1; }
  plan="$(ctl_plans | jq -r '.items[0].metadata.name')"
  # Left alone for a while, it stays as it is.
  sleep 3
  status="$(kc -n "$CTL_NS" get migrationplan "$plan" -o json)"
  uids_after="$(kc -n "$NS" get pods -o jsonpath='{.items[*].metadata.uid}' | tr ' ' '\n' | sort)"
  [[ "$(jq -r .status.phase <<<"$status")" == Pending && "$(jq .status.executedMigrations <<<"$status")" == 0 ]] \
    || { echo "plan $plan: $(jq -c '.status | {phase, executedMigrations, message}' <<<"$status")"; return 1; }
  [[ "$uids_before" == "$uids_after" && -z "$(ex_marked)" ]] || { echo "pods evicted or nodes cordoned without approval: [$(ex_marked)]"; return 1; }
  [[ "$(kc get optimizationconfig "$CTL_CONFIG" -o jsonpath='{.status.phase} {.status.lastPlan}')" == "WaitingForApproval $plan" ]] \
    || { echo "config status: $(kc get optimizationconfig "$CTL_CONFIG" -o jsonpath='{.status.phase} {.status.lastPlan}')"; return 1; }
  [[ " $(ctl_events MigrationPlan "$plan") " == *" MigrationPlanCreated "* ]] || { echo "no MigrationPlanCreated event"; return 1; }
  ctl_plan="$plan"
  echo "plan $plan: $(jq .status.totalMigrations <<<"$status") moves draining [$(jq -r '.spec.drainNodes | join(" ")' <<<"$status")], Pending: $(jq -r .status.message <<<"$status"); nothing cordoned or evicted after 3 s; config WaitingForApproval"
}

# Approves the plan; kills the leader (kill -9, no lease release) right after its first
# eviction; the standby takes the lease and finishes the plan.
controller_failover_check() {
  local plan="$ctl_plan" status total a b twice i drained left below holder
  ctl_start ctl-b 18482
  ctl_wait 30 grep -q 'waiting for the lease' "$TMP/ctl-ctl-b.log" || { echo "ctl-b did not start: $(tail -n2 "$TMP/ctl-ctl-b.log" | tr '\n' ' ')"; return 1; }
  grep -q 'leading' "$TMP/ctl-ctl-b.log" && { echo "ctl-b leads beside ctl-a"; return 1; }
  total="$(kc -n "$CTL_NS" get migrationplan "$plan" -o jsonpath='{.status.totalMigrations}')"
  [[ "$total" -ge 2 ]] || { echo "plan $plan has $total moves (2 needed)"; return 1; }
  kc -n "$CTL_NS" patch migrationplan "$plan" --type merge -p '{"spec":{"approved":true}}' >/dev/null
  for ((i = 0; i < 600; i++)); do grep -q 'evicted ' "$TMP/ctl-ctl-a.log" && break; sleep 0.05; done
  kill -9 "$ctl_a_pid" 2>/dev/null || true
  wait "$ctl_a_pid" 2>/dev/null || true
  ctl_wait 120 ctl_plan_phase_is 'Completed|Failed' \
    || { echo "plan $plan not ended within 120 s: $(kc -n "$CTL_NS" get migrationplan "$plan" -o jsonpath='{.status.phase}: {.status.message}')"; return 1; }
  status="$(kc -n "$CTL_NS" get migrationplan "$plan" -o json)"
  a="$(ctl_evicted "$TMP/ctl-ctl-a.log")"
  b="$(ctl_evicted "$TMP/ctl-ctl-b.log")"
  twice="$(comm -12 <(echo "$a") <(echo "$b") | tr '\n' ' ')"
  holder="$(kc -n "$CTL_NS" get lease kube-compactor -o jsonpath='{.spec.holderIdentity}')"
  wait_settled || true
  drained="$(jq -r '.spec.drainNodes | join(" ")' <<<"$status")"
  left=0
  for n in $drained; do
    c="$(kc get pods -A --field-selector "spec.nodeName=$n" -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null and ((.metadata.ownerReferences // []) | any(.kind == "DaemonSet") | not))] | length')"
    left=$((left + c))
  done
  below="$(kc get pdb -A -o json | jq '[.items[] | select(.status.currentHealthy < .status.desiredHealthy)] | length')"
  ctl_status="$(jq -c '.status | {phase, executedMigrations, totalMigrations, message}' <<<"$status")"
  [[ "$(jq -r .status.phase <<<"$status")" == Completed ]] || { echo "plan $plan: $ctl_status"; return 1; }
  [[ "$(jq .status.executedMigrations <<<"$status")" == "$total" && "$(jq '.status.results | length' <<<"$status")" == "$total" ]] \
    || { echo "status counts: $ctl_status, $(jq '.status.results | length' <<<"$status") results"; return 1; }
  [[ -z "$twice" ]] || { echo "evicted by both replicas: $twice"; return 1; }
  [[ "$(sort -u <(echo "$a") <(echo "$b") | grep -c . || true)" == "$total" ]] \
    || { echo "evictions logged: ctl-a [$(echo $a)], ctl-b [$(echo $b)], for $total moves"; return 1; }
  [[ "$holder" == ctl-b ]] || { echo "the lease is held by '$holder', not ctl-b"; return 1; }
  [[ $left -eq 0 && "$below" -eq 0 ]] || { echo "pods left on drained nodes: $left; budgets below desired: $below"; return 1; }
  local events
  events=" $(ctl_events MigrationPlan "$plan") "
  [[ "$events" == *" MigrationStarted "* && "$events" == *" MigrationCompleted "* ]] || { echo "Events of the plan: [$events]"; return 1; }
  [[ -z "$(ctl_forbidden)" ]] || { echo "RBAC refusals in the logs of: $(ctl_forbidden)"; return 1; }
  ctl_summary="ctl-a killed after $(echo "$a" | grep -c . || true) eviction(s); ctl-b took the lease and made the other $(echo "$b" | grep -c . || true); no pod evicted twice"
  echo "$ctl_summary; plan Completed $(jq .status.executedMigrations <<<"$status")/$total, drained [$drained] empty; Events:$events"
}

# A new plan approved node by node: the first drain node alone (its pods, or `node:NAME` when
# it has nothing to move) is carried out and nothing after it; then the whole plan, whose
# second part re-validates with the first part's node cordoned by it.
ctl_new_plan() { # a Pending plan of the config other than $ctl_plan
  [[ -n "$(ctl_plans | jq -r --arg old "$ctl_plan" '[.items[] | select(.metadata.name != $old and .status.phase == "Pending")][0].metadata.name // empty')" ]]
}
ctl_first_done() { # PLAN NODE: the plan completed exactly NODE and waits
  [[ "$(kc -n "$CTL_NS" get migrationplan "$1" -o jsonpath='{.status.phase} {.status.completedNodes}')" == "Approved [\"$2\"]" ]]
}
controller_parts_check() {
  local plan status first approvals rest cordoned total moves1
  spread || true
  kc patch optimizationconfig "$CTL_CONFIG" --type merge -p '{"spec":{"reportHistory":3}}' >/dev/null
  ctl_wait 30 ctl_new_plan || { echo "no new Pending plan within 30 s after a spec change: $(ctl_plans | jq -c '[.items[] | {name: .metadata.name, phase: .status.phase}]')"; return 1; }
  plan="$(ctl_plans | jq -r --arg old "$ctl_plan" '[.items[] | select(.metadata.name != $old and .status.phase == "Pending")][0].metadata.name')"
  status="$(kc -n "$CTL_NS" get migrationplan "$plan" -o json)"
  [[ "$(jq '.spec.drainNodes | length' <<<"$status")" -ge 2 ]] || { echo "plan $plan drains $(jq -c .spec.drainNodes <<<"$status") (2 nodes needed)"; return 1; }
  first="$(jq -r '.spec.drainNodes[0]' <<<"$status")"
  approvals="$(jq -c --arg n "$first" '[.spec.migrations[] | select(.fromNode == $n) | .pod] | if length == 0 then ["node:" + $n] else . end' <<<"$status")"
  moves1="$(jq --arg n "$first" '[.spec.migrations[] | select(.fromNode == $n)] | length' <<<"$status")"
  total="$(jq .status.totalMigrations <<<"$status")"
  kc -n "$CTL_NS" patch migrationplan "$plan" --type merge -p "{\"spec\":{\"approvedMigrations\":$approvals}}" >/dev/null
  ctl_wait 60 ctl_first_done "$plan" "$first" \
    || { echo "plan $plan after approving $approvals: $(kc -n "$CTL_NS" get migrationplan "$plan" -o jsonpath='{.status.phase} {.status.completedNodes}: {.status.message}')"; return 1; }
  sleep 2
  status="$(kc -n "$CTL_NS" get migrationplan "$plan" -o json)"
  rest="$(jq -r '.spec.drainNodes[1:] | join(" ")' <<<"$status")"
  cordoned=""
  for n in $rest; do
    [[ "$(kc get node "$n" -o jsonpath='{.spec.unschedulable}')" == true ]] && cordoned="$cordoned $n"
  done
  [[ -z "$cordoned" && "$(jq .status.executedMigrations <<<"$status")" == "$moves1" && "$(jq -r .status.phase <<<"$status")" == Approved ]] \
    || { echo "after the first part: cordoned beyond it [$cordoned], $(jq -c '.status | {phase, executedMigrations, completedNodes, message}' <<<"$status") ($moves1 moves approved)"; return 1; }
  local waiting
  waiting="$(jq -r .status.message <<<"$status")"
  kc -n "$CTL_NS" patch migrationplan "$plan" --type merge -p '{"spec":{"approved":true}}' >/dev/null
  ctl_wait 120 ctl_plan_named_phase_is "$plan" 'Completed|Failed' || { echo "plan $plan not ended within 120 s"; return 1; }
  status="$(kc -n "$CTL_NS" get migrationplan "$plan" -o json)"
  [[ "$(jq -r .status.phase <<<"$status")" == Completed && "$(jq .status.executedMigrations <<<"$status")" == "$total" ]] \
    || { echo "plan $plan: $(jq -c '.status | {phase, executedMigrations, totalMigrations, message}' <<<"$status")"; return 1; }
  for n in $(jq -r '.spec.drainNodes[]' <<<"$status"); do
    [[ "$(kc get node "$n" -o jsonpath='{.spec.unschedulable}')" == true ]] || { echo "drained node $n is not cordoned"; return 1; }
  done
  echo "plan $plan: approved $approvals → only $first drained ($moves1 moves), then waiting ('$(cut -c1-80 <<<"$waiting")'); approved whole → Completed $total/$total over [$(jq -r '.status.completedNodes | join(" ")' <<<"$status")]: $(jq -r .status.message <<<"$status")"
}

if [[ ! -x "$KUBE_COMPACTOR_BIN" ]] || ! "$KUBE_COMPACTOR_BIN" controller --help >/dev/null 2>&1; then
  skip controller "no kube-compactor binary with 'controller' at $KUBE_COMPACTOR_BIN"
else
  KCFG="${KUBECONFIG:-$E2E_KUBECONFIG}"
  spread || true
  ctl_plan=""
  ctl_out="$TMP/ctl-check.out"
  if controller_observe_check > "$ctl_out" 2>&1; then
    pass controller-observe-writes-report "$(tail -n1 "$ctl_out")"
    if controller_manual_check > "$ctl_out" 2>&1; then
      pass controller-manual-plan-waits "$(tail -n1 "$ctl_out")"
      if controller_failover_check > "$ctl_out" 2>&1; then
        pass controller-approved-plan-executes-across-failover "$(tail -n1 "$ctl_out")"
        if controller_parts_check > "$ctl_out" 2>&1; then
          pass controller-approves-node-by-node "$(tail -n1 "$ctl_out")"
        else
          fail controller-approves-node-by-node "$(tail -n3 "$ctl_out" | tr '\n' ' ')"
        fi
      else
        fail controller-approved-plan-executes-across-failover "$(tail -n3 "$ctl_out" | tr '\n' ' ')"
        skip controller-approves-node-by-node "the failover check failed"
      fi
    else
      fail controller-manual-plan-waits "$(tail -n3 "$ctl_out" | tr '\n' ' ')"
      skip controller-approved-plan-executes-across-failover "no plan to approve"
      skip controller-approves-node-by-node "no plan to approve"
    fi
  else
    fail controller-observe-writes-report "$(tail -n3 "$ctl_out" | tr '\n' ' ')"
    skip controller-manual-plan-waits "the observe check failed"
    skip controller-approved-plan-executes-across-failover "the observe check failed"
    skip controller-approves-node-by-node "the observe check failed"
  fi
  ctl_cleanup
  kc delete optimizationconfig "$CTL_CONFIG" --ignore-not-found >/dev/null 2>&1 || true
  uncordon_all
  wait_settled || true
fi

finish
