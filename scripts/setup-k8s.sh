#!/usr/bin/env bash
# Builds a real Kubernetes control plane for the tests from the Go module
# proxy (no downloads of prebuilt binaries are possible here):
#   kube-apiserver, kube-controller-manager, kube-scheduler  (k8s.io/kubernetes)
#   etcd                                                     (go.etcd.io/etcd/server/v3)
#   kwok + its stage configs                                 (sigs.k8s.io/kwok)
# k8s.io/kubernetes cannot be `go install`ed (its go.mod has replace
# directives), so a throw-away wrapper module outside the repo requires it and
# replaces each staging module with its published version. Idempotent; the
# binaries land in the furrow tool cache.
set -euo pipefail
K8S_VERSION="${K8S_VERSION:-v1.34.3}"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE="${FURROW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/furrow}"
OUT="$CACHE/tools/k8s-$K8S_VERSION"
mkdir -p "$OUT"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
cloud-provider cluster-bootstrap code-generator component-base component-helpers
controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
sample-apiserver sample-controller"

if [[ ! -x "$OUT/kube-apiserver" || ! -x "$OUT/kube-controller-manager" || ! -x "$OUT/kube-scheduler" ]]; then
  w="$CACHE/build/k8s-$K8S_VERSION"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  { echo "module furrow.local/k8s-build"; echo; echo "go 1.24"; echo
    echo "require k8s.io/kubernetes $K8S_VERSION"; echo
    for m in $staging; do echo "replace k8s.io/$m => k8s.io/$m $STAGING_VERSION"; done; } > go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  echo "k8s: resolving k8s.io/kubernetes@$K8S_VERSION"
  go mod tidy >/dev/null 2>&1 || go mod tidy
  ld="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#v1.}"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    echo "k8s: building $c (minutes on a cold cache)"
    go build -trimpath -ldflags "$ld" -o "$OUT/$c" "k8s.io/kubernetes/cmd/$c"
  done
fi

if [[ ! -x "$OUT/etcd" ]]; then
  w="$CACHE/build/etcd-$ETCD_VERSION"; rm -rf "$w"; mkdir -p "$w"; cd "$w"
  printf 'module furrow.local/etcd-build\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > go.mod
  cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  echo "k8s: building etcd $ETCD_VERSION"
  go mod tidy >/dev/null 2>&1 || go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" .
fi

if [[ ! -x "$OUT/kwok" ]]; then
  echo "k8s: building kwok $KWOK_VERSION"
  GOBIN="$OUT" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi
if [[ ! -d "$OUT/kwok-stages" ]]; then
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  [[ -d "$src" ]] || (cd "$(mktemp -d)" && go mod download "sigs.k8s.io/kwok@$KWOK_VERSION")
  rm -rf "$OUT/kwok-stages.tmp"; mkdir -p "$OUT/kwok-stages.tmp"
  # Each stage folder has its own kustomization.yaml: copy only the stages.
  for d in node/fast node/heartbeat pod/general; do
    for f in "$src/$d/"*.yaml; do
      [[ "$(basename "$f")" == kustomization.yaml ]] || cp "$f" "$OUT/kwok-stages.tmp/"
    done
  done
  mv "$OUT/kwok-stages.tmp" "$OUT/kwok-stages"
fi
ln -sfn "$OUT" "$CACHE/tools/k8s"
echo "k8s: control plane in $OUT"
