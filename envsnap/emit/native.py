"""Recreate the locked toolchain without Nix: an apt script, a Brewfile, a GitHub Actions workflow.

The packages are those the lock names: dpkg's owner (``package = "zlib1g-dev 1:1.2.13.dfsg-1"``)
of each library and of the compiler, pinned ``name=version``; Homebrew's formula of each
``brew:FORMULA VERSION`` provider, named exactly (``openssl@3``). A name or version that is not
a Debian or Homebrew word is left out with a warning, never placed in a command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

from envsnap import DISTRIBUTION, quoted
from envsnap.emit import (
    DEFAULT_CHOICE,
    VariantChoice,
    header,
    refuse_nul,
    runners,
    safe_comment,
    variant_exports,
)
from envsnap.entry import CcSection, Entry, Library, Tool
from envsnap.platforms import for_key
from envsnap.vocabulary import brew_formula

DEBIAN_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")
DEBIAN_VERSION = re.compile(r"[0-9A-Za-z.+~:-]+")
BREW_FORMULA = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._+-]*(/[A-Za-z0-9._+-]+){0,2}")
DPKG_ARCH = {"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf"}
Entries = Sequence[tuple[str, Entry]]
# The Debian package that provides a locked command by its name (``gcc`` owns /usr/bin/gcc,
# ``gcc-12`` the binary it runs; ``cc`` and ``c++`` are alternatives that gcc and g++ register;
# pkgconf provides pkg-config). Installed beside the pinned owner of the real binary, unpinned:
# the lock records the version of the binary, not of the package that names it.
DEBIAN_COMMANDS = {
    "gcc": "gcc",
    "cc": "gcc",
    "g++": "g++",
    "c++": "g++",
    "clang": "clang",
    "clang++": "clang",
    "pkg-config": "pkgconf",
    "pkgconf": "pkgconf",
}
# Homebrew's pkg-config is the pkgconf formula (pkg-config is its alias).
BREW_PKG_CONFIG = "pkgconf"


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    what: str  # the library or tool it provides, for the comment

    @property
    def apt(self) -> str:
        """The apt-get argument: ``name=version``, or the name alone for an unpinned tool."""
        return f"{self.name}={self.version}" if self.version else self.name


def _compilers_and_libraries(entry: Entry) -> list[tuple[str, Tool | Library]]:
    """What may name a Debian package, with the words for it, in lock order."""
    cc = entry.get("cc") or CcSection(compiler=Tool(), linker=Tool())
    owned: list[tuple[str, Tool | Library]] = [("the C compiler", cc["compiler"])]
    if (cxx := cc.get("cxx")) is not None:
        owned.append(("the C++ compiler", cxx))
    return owned + [(lib["name"], lib) for lib in entry["libraries"]]


def debian_pins(entry: Entry, warnings: list[str]) -> list[Pin]:
    """The Debian packages of *entry*'s compilers and libraries, each once, in lock order."""
    pins: dict[str, Pin] = {}
    for what, section in _compilers_and_libraries(entry):
        package = section.get("package")
        if package is None:
            continue
        name, _, version = package.partition(" ")
        if not (DEBIAN_NAME.fullmatch(name) and DEBIAN_VERSION.fullmatch(version)):
            warnings.append(
                safe_comment(f"{what}: {package!r} is not a Debian package and version")
            )
            continue
        pins.setdefault(name, Pin(name, version, what))
    return list(pins.values())


def _command_name(value: object) -> str:
    """The program a go env CC / PKG_CONFIG value runs (its first word as go splits it, without
    a directory); none where go cannot split it."""
    try:
        words = quoted.split(str(value or ""))
    except quoted.UnterminatedQuote:
        return ""
    return words[0].rsplit("/", 1)[-1] if words else ""


def uses_pkg_config(entry: Entry) -> bool:
    """Whether a cgo package of *entry* asks pkg-config (``#cgo pkg-config:``)."""
    packages = entry["cgo"].get("packages", []) if "cgo" in entry else []
    by_package = any(p["pkg_config"] for p in packages)
    return by_package or any(lib["found_by"] == "pkg-config" for lib in entry["libraries"])


def debian_tools(entry: Entry) -> list[Pin]:
    """The Debian packages of the commands the lock names: CC, CXX and pkg-config."""
    go_env = entry["go"]["env"]
    commands = [("CC", go_env.get("CC"))]
    if "cc" in entry and entry["cc"].get("cxx"):  # a C++ compiler the build runs
        commands.append(("CXX", go_env.get("CXX")))
    if uses_pkg_config(entry):
        commands.append(("PKG_CONFIG", go_env.get("PKG_CONFIG") or "pkg-config"))
    tools: dict[str, Pin] = {}
    for variable, value in commands:
        package = DEBIAN_COMMANDS.get(_command_name(value))
        if package:
            tools.setdefault(package, Pin(package, "", f"the {variable} command"))
    return list(tools.values())


def homebrew_go(entry: Entry) -> bool:
    """Whether the locked Go is Homebrew's (its GOROOT lies in the go formula's keg)."""
    go = entry["go"]
    return any("/Cellar/go/" in path for path in (go.get("goroot", ""), go.get("path", "")))


def brew_pins(entry: Entry, warnings: list[str]) -> list[Pin]:
    """The Homebrew formulae of *entry*'s libraries, each once, named exactly as locked."""
    pins: dict[str, Pin] = {}
    for lib in entry["libraries"]:
        provider = lib["provider"]
        formula = brew_formula(provider)
        if not formula:
            continue
        if not BREW_FORMULA.fullmatch(formula):
            warnings.append(safe_comment(f"{lib['name']}: {formula!r} is not a formula name"))
            continue
        version = provider.partition(" ")[2]
        pins.setdefault(formula, Pin(formula, version, lib["name"]))
    if uses_pkg_config(entry):  # macOS has no pkg-config of its own
        pins.setdefault(BREW_PKG_CONFIG, Pin(BREW_PKG_CONFIG, "", "pkg-config"))
    if homebrew_go(entry):
        version = entry["go"]["version"].removeprefix("go")
        pins.setdefault("go", Pin("go", version, "the Go toolchain"))
    return list(pins.values())


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _apt_arm(platform: str, entry: Entry, warnings: list[str]) -> list[str]:
    """One architecture's case: the commands' packages, and the locked packages pinned."""
    goarch = platform.partition("-")[2]
    tools, pins = debian_tools(entry), debian_pins(entry, warnings)
    if not pins:
        warnings.append(f"{safe_comment(platform)}: the lock names no Debian package")
        return []
    lines = [f"  {_quote(DPKG_ARCH.get(goarch, goarch))})  # {safe_comment(platform)}"]
    lines += [f"    # {safe_comment(p.name)}: {safe_comment(p.what)}" for p in [*tools, *pins]]
    lines.append(f"    tools={_quote(' '.join(p.apt for p in tools))}")
    return [*lines, f"    pins={_quote(' '.join(p.apt for p in pins))}", "    ;;"]


def render_apt(entries: Entries, choice: VariantChoice = DEFAULT_CHOICE) -> tuple[str, list[str]]:
    """A POSIX sh script that installs the packages of the locked commands (gcc, pkgconf) and the
    locked Debian packages, pinned with what they require at their exact version, for this
    machine's architecture; extra arguments reach apt-get (``--dry-run``). Running it twice is a
    no-op. Every name and version is a Debian word (no space, quote or glob character)."""
    warnings: list[str] = []
    arms = []
    for platform, entry in entries:
        if for_key(platform).package_manager == "apt":
            arms += _apt_arm(platform, entry, warnings)
    if not arms:
        warnings.append("no linux platform in the lock names a Debian package")
    exact = (files("envsnap") / "_data" / "templates" / "apt-exact").read_text(encoding="utf-8")
    text = (
        "#!/bin/sh\n"
        + header("#", "--apt", choice)
        + "# Installs the Debian packages envsnap.lock names, at the locked versions; arguments\n"
        + "# go to apt-get (--dry-run shows what would change). Run it again: nothing changes.\n"
        + "set -eu\n"
        + exact
        + 'sudo=""\n'
        + 'if [ "$(id -u)" != 0 ]; then sudo=sudo; fi\n'
        + 'arch="$(dpkg --print-architecture)"\n'
        + 'case "$arch" in\n'
        + "".join(line + "\n" for line in arms)
        + "  *)\n"
        + '    echo "envsnap.lock names no Debian packages for $arch" >&2\n'
        + "    exit 1\n"
        + "    ;;\n"
        + "esac\n"
        + "# shellcheck disable=SC2046,SC2086 # each word is one package\n"
        + '$sudo apt-get install -y --no-install-recommends "$@" $tools $pins '
        + "$(exact_dependencies $pins)\n"
    )
    return text, warnings


def render_brewfile(
    entries: Entries, choice: VariantChoice = DEFAULT_CHOICE
) -> tuple[str, list[str]]:
    """A Brewfile of the locked formulae (``brew bundle``), the locked versions as comments."""
    warnings: list[str] = []
    lines: list[str] = []
    seen: set[str] = set()
    for platform, entry in entries:
        if for_key(platform).package_manager != "brew":
            continue
        for pin in brew_pins(entry, warnings):
            if pin.name in seen:
                continue
            seen.add(pin.name)
            note = f"locked: {pin.version} on {platform} ({pin.what})"
            if not pin.version:
                note = f"{pin.what} on {platform}"
            lines.append(f"brew {json.dumps(pin.name)}  # {safe_comment(note)}")
    if not lines:
        warnings.append("the lock names no Homebrew formula")
    return header("#", "--brewfile", choice) + "".join(f"{line}\n" for line in lines), warnings


def _s(value: str) -> str:
    """A YAML scalar whose value is exactly *value* (a JSON string is a YAML one)."""
    return json.dumps(value)


def _job(platform: str, entry: Entry, warnings: list[str]) -> list[str] | None:
    choice = runners.choose(platform, entry)
    go_version = entry["go"]["version"].removeprefix("go")
    if choice is None or not re.fullmatch(r"[0-9][0-9a-z.]*", go_version):
        warnings.append(f"{safe_comment(platform)}: no GitHub runner or no readable Go version")
        return None
    env = {k: v for k, v in variant_exports(entry).items() if "${{" not in v}
    if len(env) != len(variant_exports(entry)):  # GitHub would evaluate it as an expression
        warnings.append(f"{safe_comment(platform)}: a locked value holding ${{{{ is left out")
    env.update(_compilers(entry))
    if choice.developer_dir:
        env["DEVELOPER_DIR"] = choice.developer_dir
    refuse_nul(env)  # a JSON escape would hand the step another value than the lock's
    if choice.note:
        warnings.append(f"{safe_comment(platform)}: {choice.note}")
    job = [f"  {platform}:", f"    name: {_s('go test (' + platform + ')')}"]
    job += [f"    runs-on: {_s(choice.label)}"]
    if env:
        job += ["    env:"] + [f"      {k}: {_s(v)}" for k, v in env.items()]
    job += [
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-go@v5",
        "        with:",
        f"          go-version: {_s(go_version)}",
    ]
    job += _package_step(platform, entry, warnings)
    job += [
        "      - name: Install envsnap",
        f"        run: pipx install {DISTRIBUTION}",
        "      - name: envsnap verify",
        "        id: verify",
        "        working-directory: ${{ env.ENVSNAP_MODULE }}",
        "        run: |",
        "          status=0",
        '          envsnap verify --json > "$RUNNER_TEMP/envsnap-verify.json" '
        '2> "$RUNNER_TEMP/envsnap-verify.err" || status=$?',
        '          cat "$RUNNER_TEMP/envsnap-verify.err" >&2',
        '          echo "exit_code=$status" >> "$GITHUB_OUTPUT"',
        "      - name: envsnap findings as annotations",
        "        shell: python3 {0}",
        "        env:",
        "          ENVSNAP_VERIFY_JSON: ${{ runner.temp }}/envsnap-verify.json",
        "          ENVSNAP_VERIFY_ERR: ${{ runner.temp }}/envsnap-verify.err",
        "          ENVSNAP_VERIFY_EXIT: ${{ steps.verify.outputs.exit_code }}",
        "        run: |",
    ]
    job += [f"          {line}".rstrip() for line in _annotate_script().splitlines()]
    job += [
        "      - name: go test",
        "        working-directory: ${{ env.ENVSNAP_MODULE }}",
        "        run: go test ./...",
    ]
    return job


def _compilers(entry: Entry) -> dict[str, str]:
    """CC and CXX as locked: actions/setup-go's Go defaults to clang and clang++, Homebrew's
    to cc and c++, and a job that does not set them verifies another compiler."""
    go_env = entry["go"]["env"]
    values = {name: go_env.get(name) for name in ("CC", "CXX")}
    return {k: v for k, v in values.items() if v and "${{" not in v}


def _package_step(platform: str, entry: Entry, warnings: list[str]) -> list[str]:
    if for_key(platform).package_manager == "apt":
        pins = debian_pins(entry, warnings)
        command = "sudo apt-get update && sudo apt-get install -y --no-install-recommends"
        words = [p.apt for p in pins]
    else:
        pins = brew_pins(entry, warnings)  # Go is actions/setup-go's, at the locked version
        command, words = "brew install", [p.name for p in pins if p.name != "go"]
    if not words:
        return []
    run = command + " " + " ".join(_quote(w) for w in words)
    return ["      - name: Locked packages", f"        run: {_s(run)}"]


def _annotate_script() -> str:
    path = files("envsnap") / "_data" / "templates" / "github-annotate"
    return path.read_text(encoding="utf-8")


def render_workflow(
    entries: Entries, choice: VariantChoice = DEFAULT_CHOICE
) -> tuple[str, list[str]]:
    """``.github/workflows/envsnap.yml``: per locked platform, a job on its runner image with the
    locked Xcode, Go and packages, ``envsnap verify`` as annotations, then ``go test``."""
    warnings: list[str] = []
    jobs: list[str] = []
    for platform, entry in entries:
        job = _job(platform, entry, warnings)
        if job is not None:
            jobs += job
    if not jobs:
        warnings.append("no locked platform has a GitHub-hosted runner")
        jobs = ["  none:", '    runs-on: "ubuntu-24.04"', "    steps:", '      - run: "false"']
    text = (
        header("#", "--github-actions", choice)
        + "name: envsnap\n\n"
        + "on:\n  push:\n  pull_request:\n\n"
        + "permissions:\n  contents: read\n\n"
        + "env:\n  ENVSNAP_MODULE: .  # the folder holding go.mod and envsnap.lock\n\n"
        + "jobs:\n"
        + "".join(f"{line}\n" for line in jobs)
    )
    return text, warnings
