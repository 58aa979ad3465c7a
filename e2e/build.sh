#!/usr/bin/env bash
# Builds (or finds cached) every binary the e2e cluster needs, outside the repository:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  from k8s.io/kubernetes
#       through the wrapper module e2e/gomod/kubernetes (Go module proxy)
#   kwok, kwokctl                                                     from sigs.k8s.io/kwok
#   metrics-server                                                    from sigs.k8s.io/metrics-server
#                                                                     (optional: a failure is reported, not fatal)
#   ca-observe                    Cluster Autoscaler 1.33.0 (kwok cloud provider) driven by our
#                                 observe-only loop, through the wrapper module
#                                 e2e/gomod/cluster-autoscaler (optional: a failure is reported)
#   etcd                          from the crate etcd-bin-vendored-linux-amd64 (cargo fetch)
#                                 (fallback: Debian's etcd-server)
# Prints the time each step took and keeps them in $E2E_BIN/../build-timings.txt.
#
# Usage: e2e/build.sh [--force]      (--force rebuilds everything, caches kept)
# Heavy steps run under `nice -n 19` so that other builds on the machine keep priority.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
[[ "${1:-}" == "--force" ]] && force=1

command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$E2E_BIN" "$GOMODCACHE" "$GOCACHE"
timings="$E2E_CACHE/$K8S_VERSION/build-timings.txt"
: > "$timings.new"
NICE=(nice -n 19)
GO_VERSION="$(go env GOVERSION)"
total_start=$SECONDS

# step NAME KEY CMD...: runs CMD unless $E2E_BIN/.stamp-NAME holds KEY (and the binary exists).
step() {
  local name="$1" key="$2"; shift 2
  local stamp="$E2E_BIN/.stamp-$name"
  if [[ $force -eq 0 && -x "$E2E_BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$key" ]]; then
    log "$name: cached ($key)"
    printf '%-26s cached\n' "$name" >> "$timings.new"
    return 0
  fi
  log "$name: building ($key)"
  local t0=$SECONDS
  if "$@"; then
    printf '%s' "$key" > "$stamp"
    log "$name: done in $((SECONDS - t0)) s"
    printf '%-26s %5d s\n' "$name" "$((SECONDS - t0))" >> "$timings.new"
  else
    rm -f "$stamp"
    log "$name: FAILED after $((SECONDS - t0)) s"
    printf '%-26s FAILED after %d s\n' "$name" "$((SECONDS - t0))" >> "$timings.new"
    return 1
  fi
}

# ---------------------------------------------------------------- Kubernetes
k8s_mod_dir="$E2E_DIR/gomod/kubernetes"
grep -qE "^(require )?[[:space:]]*k8s.io/kubernetes $K8S_VERSION( |\$)" "$k8s_mod_dir/go.mod" \
  || die "e2e/gomod/kubernetes/go.mod does not pin k8s.io/kubernetes $K8S_VERSION; run e2e/gomod/update-kubernetes.sh $K8S_VERSION"
[[ "$K8S_VERSION" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "bad K8S_VERSION $K8S_VERSION"
k8s_major="${BASH_REMATCH[1]}"; k8s_minor="${BASH_REMATCH[2]}"
k8s_sum="$(cat "$k8s_mod_dir/go.mod" "$k8s_mod_dir/go.sum" | sha256sum | cut -c1-12)"

k8s_download() {
  (cd "$k8s_mod_dir" && GOFLAGS="$GOFLAGS -mod=readonly" "${NICE[@]}" go mod download k8s.io/kubernetes \
     && GOFLAGS="$GOFLAGS -mod=readonly" "${NICE[@]}" go list -deps -tags notest \
          k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
          k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl >/dev/null)
}

k8s_build() {
  local cmd="$1" build_date
  # The release's own timestamp, so that the build is reproducible and the link cached.
  build_date="$(cd "$k8s_mod_dir" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  local -a ldflags=(-s -w)
  local pkg key val
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for key in gitVersion gitMajor gitMinor gitTreeState buildDate; do
      case $key in
        gitVersion) val="$K8S_VERSION" ;;
        gitMajor) val="$k8s_major" ;;
        gitMinor) val="$k8s_minor" ;;
        gitTreeState) val="clean" ;;
        buildDate) val="$build_date" ;;
      esac
      ldflags+=("-X" "$pkg.$key=$val")
    done
  done
  (cd "$k8s_mod_dir" && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=readonly" "${NICE[@]}" \
     go build -p 2 -trimpath -tags notest -ldflags "${ldflags[*]}" -o "$E2E_BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd")
  local reported
  if [[ "$cmd" == kubectl ]]; then
    reported="$("$E2E_BIN/$cmd" version --client 2>&1 || true)"
  else
    reported="$("$E2E_BIN/$cmd" --version 2>&1 || true)"
  fi
  [[ "$reported" == *"$K8S_VERSION"* ]] \
    || { echo "error: $cmd does not report $K8S_VERSION: $reported" >&2; return 1; }
}

t_dl=$SECONDS
k8s_download_key="k8s.io/kubernetes@$K8S_VERSION sum=$k8s_sum"
if [[ -f "$E2E_BIN/.stamp-k8s-modules" && "$(cat "$E2E_BIN/.stamp-k8s-modules")" == "$k8s_download_key" && $force -eq 0 ]]; then
  log "k8s modules: cached"
  printf '%-26s cached\n' "k8s-module-download" >> "$timings.new"
else
  log "k8s modules: downloading k8s.io/kubernetes $K8S_VERSION and its dependencies"
  k8s_download || die "downloading the Kubernetes modules failed"
  printf '%s' "$k8s_download_key" > "$E2E_BIN/.stamp-k8s-modules"
  printf '%-26s %5d s\n' "k8s-module-download" "$((SECONDS - t_dl))" >> "$timings.new"
fi

for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  step "$c" "$K8S_VERSION sum=$k8s_sum $GO_VERSION" k8s_build "$c" || die "building $c failed"
done

# ---------------------------------------------------------------- kwok, kwokctl
kwok_build() {
  local cmd="$1"
  local kube_ver="${K8S_VERSION#v}"
  GOBIN="$E2E_BIN" CGO_ENABLED=0 "${NICE[@]}" go install -p 2 -trimpath -ldflags \
    "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$kube_ver -X sigs.k8s.io/kwok/pkg/consts.PreRelease=GA" \
    "sigs.k8s.io/kwok/cmd/$cmd@$KWOK_VERSION"
}
for c in kwok kwokctl; do
  step "$c" "$KWOK_VERSION kube=$K8S_VERSION $GO_VERSION" kwok_build "$c" || die "building $c failed"
done

# ---------------------------------------------------------------- metrics-server (optional)
metrics_server_build() {
  local -a ldflags=(-s -w)
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=("-X" "$pkg.gitVersion=$METRICS_SERVER_VERSION" "-X" "$pkg.gitTreeState=clean")
  done
  GOBIN="$E2E_BIN" CGO_ENABLED=0 "${NICE[@]}" go install -p 2 -trimpath -ldflags "${ldflags[*]}" \
    "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
}
if ! step metrics-server "$METRICS_SERVER_VERSION $GO_VERSION" metrics_server_build; then
  log "metrics-server did not build: the cluster will run without it and its test is skipped"
  rm -f "$E2E_BIN/metrics-server"
fi

# ---------------------------------------------------------------- Cluster Autoscaler (optional)
# ca-observe: e2e/gomod/cluster-autoscaler/main.go over CA 1.33.0's packages, `-tags kwok`
# (only the kwok cloud provider is compiled in). Used by ca-compare.sh.
ca_mod_dir="$E2E_DIR/gomod/cluster-autoscaler"
ca_sum="$(cat "$ca_mod_dir/go.mod" "$ca_mod_dir/go.sum" "$ca_mod_dir/main.go" | sha256sum | cut -c1-12)"
ca_build() {
  (cd "$ca_mod_dir" && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=readonly" "${NICE[@]}" \
     go build -p 2 -trimpath -tags kwok -ldflags "-s -w" -o "$E2E_BIN/ca-observe" .)
  local help
  help="$("$E2E_BIN/ca-observe" --help 2>&1 || true)"
  [[ "$help" == *--observe-stable-loops* ]] || { echo "error: ca-observe does not run: ${help:0:300}" >&2; return 1; }
}
if ! step ca-observe "$CA_VERSION sum=$ca_sum $GO_VERSION" ca_build; then
  log "ca-observe did not build: ca-compare.sh cannot run"
  rm -f "$E2E_BIN/ca-observe"
fi

# ---------------------------------------------------------------- etcd
# The crate etcd-bin-vendored-linux-amd64 ships etcd's own release binary in bin/etcd.
# Fetched with cargo into a private CARGO_HOME (no compilation); Debian's etcd-server is
# the fallback when cargo is missing.
etcd_fetch() {
  local dir="$E2E_CACHE/etcd-fetch" home="$E2E_CACHE/cargo-home" crate
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<EOF
[package]
name = "etcd-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
etcd-bin-vendored-linux-amd64 = "=$ETCD_VERSION"
EOF
  : > "$dir/src/lib.rs"
  if command -v cargo >/dev/null; then
    CARGO_HOME="$home" "${NICE[@]}" cargo fetch --quiet --manifest-path "$dir/Cargo.toml"
    crate="$(find "$home/registry/cache" -name "etcd-bin-vendored-linux-amd64-$ETCD_VERSION.crate" | head -n1)"
    [[ -n "$crate" ]] || { echo "error: cargo fetch did not leave the etcd crate" >&2; return 1; }
    tar -xzf "$crate" -O "etcd-bin-vendored-linux-amd64-$ETCD_VERSION/bin/etcd" > "$E2E_BIN/etcd.tmp"
    chmod 0755 "$E2E_BIN/etcd.tmp"
    mv "$E2E_BIN/etcd.tmp" "$E2E_BIN/etcd"
  else
    echo "cargo not found: installing Debian's etcd-server instead" >&2
    [[ -x /usr/bin/etcd ]] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server; }
    ln -sf /usr/bin/etcd "$E2E_BIN/etcd"
  fi
  "$E2E_BIN/etcd" --version
}
step etcd "etcd-bin-vendored-linux-amd64@$ETCD_VERSION" etcd_fetch || die "getting etcd failed"

mv "$timings.new" "$timings"
log "all binaries in $E2E_BIN (total $((SECONDS - total_start)) s); timings:"
cat "$timings" >&2
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  printf '  %-24s %s\n' "$b" "$("$E2E_BIN/$b" --version 2>&1 | head -n1)" >&2
done
printf '  %-24s %s\n' kubectl "$("$E2E_BIN/kubectl" version --client 2>&1 | head -n1)" >&2
printf '  %-24s %s\n' kwokctl "$("$E2E_BIN/kwokctl" --version 2>&1 | head -n1)" >&2
printf '  %-24s %s\n' etcd "$("$E2E_BIN/etcd" --version 2>&1 | head -n1)" >&2
if [[ -x "$E2E_BIN/metrics-server" ]]; then
  printf '  %-24s %s\n' metrics-server "$("$E2E_BIN/metrics-server" --version 2>&1 | head -n1)" >&2
fi
