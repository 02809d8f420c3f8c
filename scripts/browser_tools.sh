#!/usr/bin/env bash
# The real browser the agent's status-page tests drive (tests/agent/ui): Debian's chromium, its chromedriver
# and the CJK fonts (without them 同步成功 renders as □□□□ in the screenshot). See docs LOCAL_TOOLS.md.
# Idempotent: with everything installed it only asks dpkg and takes well under a second.
#
#   scripts/browser_tools.sh          install what is missing, then print one summary line
#   scripts/browser_tools.sh --check  exit 0 if everything is in place, 1 if not (installs nothing)
LOG_TAG=browser-tools
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(chromium chromium-driver fonts-noto-cjk)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do installed "$pkg" || printf '%s\n' "$pkg"; done
}

install() {
    local todo=("$@") apt=(apt-get -o DPkg::Lock::Timeout=300)
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 ||
        die "apt-get is unavailable: install ${todo[*]} (chromium with its chromedriver, CJK fonts) yourself"
    is_root || die "missing Debian packages ${todo[*]}: install them (sudo apt-get install ${todo[*]})"
    if ! apt-cache policy "${todo[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        "${apt[@]}" update -qq >/dev/null || die "Debian's package index is unreachable (apt-get update failed)"
    fi
    log "installing Debian packages: ${todo[*]}"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${todo[@]}" >/dev/null ||
        die "Debian's package registry refused or is unreachable: apt-get install ${todo[*]}"
}

main() {
    local todo
    mapfile -t todo < <(missing)
    if [[ "${1:-}" == --check ]]; then
        ((${#todo[@]} == 0))
        return
    fi
    if ((${#todo[@]})); then
        take_lock browser-tools 900
        mapfile -t todo < <(missing)
        ((${#todo[@]} == 0)) || install "${todo[@]}"
    fi
    local tool
    for tool in chromium chromedriver; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH after installing ${PACKAGES[*]}"
    done
    log "ready: $(chromium --version 2>/dev/null | head -1), $(chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
}

main "$@"
