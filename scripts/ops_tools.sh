#!/usr/bin/env bash
# Tools the deploy checks need (tests/deploy), installed under .local/tools from the package registries only.
# Idempotent: a second run with everything in place takes well under a second.
#
#   scripts/ops_tools.sh          install what is missing, then print one summary line
#   scripts/ops_tools.sh --check  exit 0 if everything is in place, 1 if not (installs nothing)
#
# .local/tools/bin/
#   kustomize          go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION   (Go module proxy)
#   kubeconform        go install github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION
#   rollsync-yamltool  go build ./tests/deploy/yamltool (YAML -> JSON, compose-go = `docker compose config`)
#   promtool, prometheus -> /usr/bin (Debian package `prometheus`); amtool and prometheus-alertmanager in /usr/bin
#   (Debian package `prometheus-alertmanager`, for tests/deploy/test_alertmanager.py and `make up`)
# .local/tools/k8s-schemas/v$K8S_VERSION-standalone-strict/   Kubernetes JSON schemas for kubeconform, made
#   offline from the PyPI package kubernetes-validate (tests/deploy/k8s_schemas.py inlines their references).
# nginx (Debian nginx-light, as scripts/nginx.sh installs it) for `nginx -t` of the compose edge config.
LOG_TAG=ops-tools
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUSTOMIZE_VERSION=v5.8.1
KUBECONFORM_VERSION=v0.8.0
K8S_SCHEMA_PACKAGE=kubernetes-validate
K8S_SCHEMA_PACKAGE_VERSION=1.37.0
K8S_VERSION=1.32.0
APT_PACKAGES=(prometheus prometheus-alertmanager)

TOOLS="$LOCAL/tools"
BIN="$TOOLS/bin"
CACHE="$TOOLS/cache"
SCHEMAS="$TOOLS/k8s-schemas/v$K8S_VERSION-standalone-strict"
YAMLTOOL_SRC="$ROOT/tests/deploy/yamltool"

refused() { die "$1 refused or unreachable: $2 (see the output above)"; }

have_go_tool() { # NAME VERSION: the binary exists and was built from that module version
    [[ -x "$BIN/$1" ]] && go version -m "$BIN/$1" 2>/dev/null | grep -q "[[:space:]]$2[[:space:]]"
}

go_install() { # NAME MODULE@VERSION
    local name=$1 spec=$2
    have_go_tool "$name" "${spec##*@}" && return 0
    command -v go >/dev/null 2>&1 || die "go is missing: install Go 1.22+ to build $name"
    log "installing $name (${spec##*@}) from the Go module proxy"
    GOBIN="$BIN" GOFLAGS=-mod=mod go install "$spec" || refused "the Go module proxy" "$spec"
}

yamltool_stamp() { cat "$YAMLTOOL_SRC"/go.mod "$YAMLTOOL_SRC"/go.sum "$YAMLTOOL_SRC"/*.go | sha256sum | cut -c1-16; }

yamltool_ok() { [[ -x "$BIN/rollsync-yamltool" && "$(cat "$BIN/.rollsync-yamltool.stamp" 2>/dev/null)" == "$(yamltool_stamp)" ]]; }

build_yamltool() {
    yamltool_ok && return 0
    log "building rollsync-yamltool (compose-go, go.yaml.in/yaml) from tests/deploy/yamltool"
    (cd "$YAMLTOOL_SRC" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN/rollsync-yamltool" .) ||
        refused "the Go module proxy" "modules of tests/deploy/yamltool/go.mod"
    yamltool_stamp >"$BIN/.rollsync-yamltool.stamp"
}

apt_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do apt_ok "$pkg" || missing+=("$pkg"); done
    ((${#missing[@]})) || return 0
    is_root || die "missing Debian packages ${missing[*]}: install them (sudo apt-get install ${missing[*]})"
    if ! apt-cache policy "${missing[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        apt-get update -qq >/dev/null || refused "Debian's package index" "apt-get update"
    fi
    log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        refused "Debian's package registry" "apt-get install ${missing[*]}"
}

nginx_present() { command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; }

install_nginx() {
    nginx_present && return 0
    local before after pid pkg=nginx
    before=$(pgrep -x nginx | sort || true)
    apt-cache policy nginx-light 2>/dev/null | grep -q 'Candidate: [0-9]' && pkg=nginx-light
    apt_install "$pkg"
    # Debian's package may start a default server; stop only what that install started (we need the binary).
    after=$(pgrep -x nginx | sort || true)
    for pid in $(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after")); do
        kill "$pid" 2>/dev/null || true
    done
}

link_promtool() {
    local tool
    for tool in promtool prometheus; do
        [[ -x "/usr/bin/$tool" ]] || die "/usr/bin/$tool missing after installing the Debian package prometheus"
        [[ "$(readlink "$BIN/$tool" 2>/dev/null)" == "/usr/bin/$tool" ]] || ln -sfn "/usr/bin/$tool" "$BIN/$tool"
    done
}

schemas_ok() { [[ -s "$SCHEMAS/deployment-apps-v1.json" && -s "$SCHEMAS/.complete" ]]; }

build_schemas() {
    schemas_ok && return 0
    local wheel="$CACHE/kubernetes_validate-$K8S_SCHEMA_PACKAGE_VERSION-py3-none-any.whl" py
    if [[ ! -s "$wheel" ]]; then
        log "downloading $K8S_SCHEMA_PACKAGE==$K8S_SCHEMA_PACKAGE_VERSION from PyPI (Kubernetes JSON schemas)"
        python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$CACHE" \
            "$K8S_SCHEMA_PACKAGE==$K8S_SCHEMA_PACKAGE_VERSION" || refused "PyPI" "$K8S_SCHEMA_PACKAGE"
    fi
    py=$(command -v python3)
    [[ -x "$ROOT/.venv/bin/python" ]] && py="$ROOT/.venv/bin/python"
    rm -rf "$SCHEMAS"
    "$py" "$ROOT/tests/deploy/k8s_schemas.py" "$wheel" "$K8S_VERSION" "$TOOLS/k8s-schemas" >&2
    date -u +%FT%TZ >"$SCHEMAS/.complete"
}

all_ok() {
    have_go_tool kustomize "$KUSTOMIZE_VERSION" && have_go_tool kubeconform "$KUBECONFORM_VERSION" && yamltool_ok &&
        apt_ok prometheus && apt_ok prometheus-alertmanager && [[ -L "$BIN/promtool" ]] && nginx_present && schemas_ok
}

main() {
    mkdir -p "$BIN" "$CACHE"
    if [[ "${1:-}" == --check ]]; then
        all_ok
        return
    fi
    take_lock ops-tools 600
    if ! all_ok; then
        go_install kustomize "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
        go_install kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
        build_yamltool
        apt_install "${APT_PACKAGES[@]}"
        link_promtool
        install_nginx
        build_schemas
    fi
    printf 'K8S_VERSION=%s\n' "$K8S_VERSION" >"$TOOLS/versions.env"
    log "ready in .local/tools: kustomize $KUSTOMIZE_VERSION, kubeconform $KUBECONFORM_VERSION," \
        "$("$BIN/promtool" --version 2>/dev/null | head -1 | awk '{print "promtool " $3}'), Kubernetes $K8S_VERSION schemas"
}

main "$@"
