# shellcheck shell=bash
# Shared settings for the e2e scripts. Source it; do not run it.
#
# Everything built or started lives outside the repository:
#   $E2E_CACHE (default ~/.cache/kube-compactor-e2e)
#     go/, go-build/, cargo-home/         Go and cargo caches used by build.sh
#     <K8S_VERSION>/bin/                  kube-apiserver, kube-controller-manager, kube-scheduler,
#                                         kubectl, kwok, kwokctl, metrics-server, etcd
#     kwok-home/                          kwokctl's working directory (clusters, logs, pids)

# Pinned versions (change them together; see README.md).
: "${K8S_VERSION:=v1.34.4}"          # k8s.io/kubernetes; e2e/gomod/kubernetes/go.mod pins the same
: "${KWOK_VERSION:=v0.8.0}"          # sigs.k8s.io/kwok (kwok + kwokctl)
: "${METRICS_SERVER_VERSION:=v0.8.0}" # sigs.k8s.io/metrics-server
: "${CA_VERSION:=1.33.0}"            # Cluster Autoscaler; e2e/gomod/cluster-autoscaler/go.mod pins it
: "${ETCD_VERSION:=3.6.15}"          # crate etcd-bin-vendored-linux-amd64 (ships the etcd binary)

: "${E2E_CLUSTER_NAME:=kube-compactor-e2e}"

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_DIR="$(cd "$E2E_DIR/.." && pwd)"
E2E_CACHE="${E2E_CACHE:-$HOME/.cache/kube-compactor-e2e}"
E2E_BIN="$E2E_CACHE/$K8S_VERSION/bin"
# kwokctl keeps its clusters under $KWOK_WORKDIR/clusters/<name>.
export KWOK_WORKDIR="$E2E_CACHE/kwok-home"
E2E_CLUSTER_DIR="$KWOK_WORKDIR/clusters/$E2E_CLUSTER_NAME"
E2E_KUBECONFIG="$E2E_CLUSTER_DIR/kubeconfig.yaml"

# The Go toolchain on the machine is used as it is: never download another one.
export GOTOOLCHAIN=local
export GOPATH="$E2E_CACHE/go"
export GOMODCACHE="$E2E_CACHE/go/pkg/mod"
export GOCACHE="$E2E_CACHE/go-build"
export GOFLAGS="-buildvcs=false"

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[e2e] error: %s\n' "$*" >&2; exit 1; }

# The kubectl built from the pinned Kubernetes release, against the e2e cluster unless
# KUBECONFIG says otherwise.
kc() { "$E2E_BIN/kubectl" --kubeconfig "${KUBECONFIG:-$E2E_KUBECONFIG}" "$@"; }

need_bins() {
  local b
  for b in "$@"; do
    [[ -x "$E2E_BIN/$b" ]] || die "$E2E_BIN/$b is missing: run e2e/build.sh first"
  done
}
