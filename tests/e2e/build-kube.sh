#!/usr/bin/env bash
# Builds kube-apiserver and kube-scheduler (upstream v1.20.2, Debian's source package
# `kubernetes`) once, into a cache folder outside the clone that `make test` reuses:
#
#   ${GPUSHARE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpushare/kubernetes-1.20.2}/bin/
#
# Prints that bin folder on its last line. A second run finds the binaries and returns at once.
# Needs (apt): dpkg-dev golang-go golang-github-modern-go-reflect2-dev
# golang-github-json-iterator-go-dev, and a deb-src entry for bookworm main (added if missing).
# About 15 minutes on 2 cores.
#
# What it takes to build v1.20 with Debian's Go 1.19:
#  - GOPATH mode (GO111MODULE=off) with the source's vendored dependencies;
#  - pkg/generated/openapi/zz_generated.openapi.go is not in the source: it is generated with
#    the vendored openapi-gen over every package tagged +k8s:openapi-gen (as upstream's
#    Makefile.generated_files does);
#  - the vendored reflect2 1.0.1 crashes under Go 1.19 at the first JSON encode: Debian's
#    reflect2 (1.0.2) and json-iterator (1.1.12) replace the vendored copies.
set -euo pipefail

VERSION=1.20.2
CACHE=${GPUSHARE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpushare/kubernetes-$VERSION}
BIN=$CACHE/bin
if [[ -x $BIN/kube-apiserver && -x $BIN/kube-scheduler ]]; then
  echo "$BIN"
  exit 0
fi
log() { echo "build-kube: $*" >&2; }
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

need=()
for p in dpkg-dev golang-go golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
srcs=/etc/apt/sources.list.d/gpushare-deb-src.sources
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding a deb-src entry for bookworm main ($srcs)"
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
    $SUDO tee "$srcs" >/dev/null
  need_update=1
fi
if [[ ${#need[@]} -gt 0 || -n ${need_update:-} ]]; then
  $SUDO apt-get update -qq
  [[ ${#need[@]} -gt 0 ]] && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$CACHE/src"
SRC=$(find "$CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
if [[ -z $SRC ]]; then
  log "apt-get source kubernetes"
  (cd "$CACHE/src" && apt-get source -qq kubernetes >/dev/null 2>&1)
  SRC=$(find "$CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
fi
[[ -n $SRC && -f $SRC/go.mod ]] || { log "no kubernetes source under $CACHE/src"; exit 1; }
case $SRC in *"$VERSION"*) ;; *) log "warning: $SRC does not look like v$VERSION" ;; esac

export GOPATH=$CACHE/gopath GO111MODULE=off CGO_ENABLED=0 GOFLAGS=-mod=vendor GOCACHE=$CACHE/gocache
unset GOFLAGS  # GOPATH mode ignores -mod; vendor/ is used because the tree lives under GOPATH
mkdir -p "$GOPATH/src/k8s.io"
ln -sfn "$SRC" "$GOPATH/src/k8s.io/kubernetes"
K=$GOPATH/src/k8s.io/kubernetes
cd "$K"

# Go 1.19-safe reflect2 and json-iterator from Debian in place of the vendored ones.
for pkg in github.com/modern-go/reflect2 github.com/json-iterator/go; do
  if [[ ! -L vendor/$pkg ]]; then
    [[ -d vendor/$pkg ]] && mv "vendor/$pkg" "vendor/$pkg.vendored-orig"
    ln -s "/usr/share/gocode/src/$pkg" "vendor/$pkg"
  fi
done

OPENAPI=pkg/generated/openapi/zz_generated.openapi.go
if [[ ! -s $OPENAPI ]]; then
  log "generating $OPENAPI"
  go build -o "$CACHE/tools/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # Every directory (vendor/ excluded, staging/src named as vendor/) with a Go file tagged
  # +k8s:openapi-gen=, less code-generator and sample-apiserver: upstream's KUBE_OPENAPI dirs.
  dirs=$(find -H . \( -path ./_\* -o -path ./.\* -o -path ./vendor \) -prune -o -type f -name '*.go' -print |
    xargs grep -l '^// *+k8s:openapi-gen=' | sed 's|^\./staging/src|vendor|; s|^\./||; s|/[^/]*$||' |
    grep -v -E '^vendor/k8s.io/(code-generator|sample-apiserver)/' | LC_ALL=C sort -u |
    sed 's|^|k8s.io/kubernetes/|' | paste -sd, -)
  "$CACHE/tools/openapi-gen" --logtostderr -i "$dirs" -p k8s.io/kubernetes/pkg/generated/openapi \
    -O zz_generated.openapi -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
    -r "$CACHE/openapi-violations.report" >/dev/null
fi

# The version both version packages report (--version and the API server's /version).
ldflags="-s -w"
for pkgv in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkgv.gitVersion=v$VERSION -X $pkgv.gitMajor=1 -X $pkgv.gitMinor=20 -X $pkgv.gitTreeState=clean"
done
mkdir -p "$BIN.partial"
for cmd in kube-apiserver kube-scheduler; do
  log "go build $cmd"
  go build -ldflags "$ldflags" -o "$BIN.partial/$cmd" "./cmd/$cmd"
done
rm -rf "$BIN" && mv "$BIN.partial" "$BIN"
echo "$BIN"
