"""The macOS checks: developer directory, SDK age, CLT against Xcode, Nix paths left behind."""

from __future__ import annotations

import re

from envsnap.doctor.facts import AppleFacts, Check, Evidence, names, skipped


def check_developer_dir(apple: AppleFacts) -> Check:
    cid, title = "macos.developer-dir", "the active developer directory has xcrun"
    section = apple.section
    shown = tuple(e for e in (apple.xcode_select and apple.xcode_select.evidence(),) if e)
    devdir = section.get("developer_dir")
    if devdir is None:
        return Check(
            cid,
            title,
            "problem",
            "there is no active developer directory",
            shown,
            "install the Command Line Tools: `xcode-select --install`",
        )
    if section.get("has_xcrun"):
        return _with_xcrun(apple, shown)
    evidence = list(shown)
    if section.get("developer_dir_source") == "DEVELOPER_DIR":
        evidence = [Evidence("environment", "DEVELOPER_DIR", (f"DEVELOPER_DIR={devdir}",))]
    evidence.append(Evidence("derived", "file system", (f"{devdir}/usr/bin/xcrun does not exist",)))
    if apple.compiler_run is not None and apple.compiler_run.ran and not apple.compiler_run.ok:
        evidence.append(apple.compiler_run.evidence())
    return Check(
        cid,
        title,
        "problem",
        f"the active developer directory {devdir} has no usr/bin/xcrun: cc, clang and every "
        "cgo build fail (typical after a macOS update)",
        tuple(evidence),
        "reinstall the Command Line Tools with `xcode-select --install` (or `sudo xcode-select "
        "--reset`, or `--switch /Applications/Xcode.app` if Xcode is installed); then "
        "`envsnap lock` once the team agrees on the new SDK",
    )


def _with_xcrun(apple: AppleFacts, shown: tuple[Evidence, ...]) -> Check:
    cid, title = "macos.developer-dir", "the active developer directory has xcrun"
    section = apple.section
    devdir, kind = section["developer_dir"], section.get("developer_dir_kind", "other")
    real = section.get("developer_dir_realpath")
    where = f"{devdir} (→ {real}, {kind})" if real else f"{devdir} ({kind})"
    if not section.get("xcode_beta"):
        return Check(cid, title, "ok", f"{where} has usr/bin/xcrun", shown)
    xcode = f"Xcode {section.get('xcode_version')} ({section.get('xcode_build')})"
    evidence = (*shown, *_selection_evidence(apple))
    return Check(
        cid,
        title,
        "warning",
        f"{where} is {xcode}, a beta: cgo builds here compile against its seed SDK, what they "
        "produce is not for shipping, and no released Command Line Tools match it",
        evidence,
        f"{_release_selection(apple)} for builds you lock or ship; keep the beta for testing",
    )


def _release_selection(apple: AppleFacts) -> str:
    if apple.environ.get("DEVELOPER_DIR"):
        return "unset DEVELOPER_DIR (or point it at a released Xcode)"
    return (
        "select a released Xcode (`sudo xcode-select --switch /Applications/Xcode_<version>.app`)"
    )


def _selection_evidence(apple: AppleFacts) -> tuple[Evidence, ...]:
    value = apple.environ.get("DEVELOPER_DIR")
    if value:
        return (Evidence("environment", "DEVELOPER_DIR", (f"DEVELOPER_DIR={value}",)),)
    return ()


def check_sdk(apple: AppleFacts) -> Check:
    cid, title = "macos.sdk", "the SDK is as new as macOS"
    sdk, os_version = apple.section.get("sdk_version"), apple.os_version
    sdk_major, os_major = macos_major(sdk), macos_major(os_version)
    if sdk_major is None or os_major is None:
        why = apple.section.get("sdk_error") or "the macOS version is unknown"
        return skipped(cid, title, f"cannot compare: {why}")
    evidence = (
        Evidence(
            "file",
            "/System/Library/CoreServices/SystemVersion.plist",
            (f"ProductVersion {os_version}",),
        ),
        sdk_evidence(str(apple.section.get("sdk_realpath") or apple.section.get("sdk_path")), sdk),
    )
    if sdk_major > os_major and not apple.environ.get("MACOSX_DEPLOYMENT_TARGET"):
        return _sdk_ahead(apple, evidence)
    if sdk_major >= os_major:
        return Check(cid, title, "ok", f"SDK {sdk} on macOS {os_version}", evidence)
    return Check(
        cid,
        title,
        "warning",
        f"the SDK cgo compiles against is {sdk}, older than macOS {os_version}: the developer "
        "tools were left behind by an OS upgrade, and teammates on current tools link a "
        "different SDK",
        evidence,
        "install the Command Line Tools for this macOS (`softwareupdate --list`, or remove "
        "/Library/Developer/CommandLineTools and run `xcode-select --install`), then "
        "`envsnap lock` once the team agrees on the new SDK",
    )


def _sdk_ahead(apple: AppleFacts, evidence: tuple[Evidence, ...]) -> Check:
    sdk, os_version = apple.section.get("sdk_version"), apple.os_version
    shown = (
        *evidence,
        Evidence("environment", "environment", ("MACOSX_DEPLOYMENT_TARGET=(unset)",)),
    )
    return Check(
        "macos.sdk",
        "the SDK is as new as macOS",
        "warning",
        f"the SDK cgo compiles against is {sdk}, newer than this macOS {os_version}, and "
        "MACOSX_DEPLOYMENT_TARGET is not set: clang then targets the older of the two (macOS "
        f"{os_version}; inferDeploymentTargetFromSDK in clang's Darwin driver), so binaries "
        "built here run here, but not on older Macs",
        shown,
        "export MACOSX_DEPLOYMENT_TARGET set to the oldest macOS you support (for example "
        f"MACOSX_DEPLOYMENT_TARGET={os_version}, this Mac's), so that every Mac builds for the "
        "same one",
    )


def macos_major(version: str | None) -> tuple[int, ...] | None:
    """The part of a version that names a macOS release: 15 for 15.3.1, (10, 15) for 10.15."""
    parts = [int(p) for p in re.findall(r"\d+", version or "")[:2]]
    if not parts:
        return None
    return tuple(parts[:2]) if parts[0] == 10 and len(parts) > 1 else (parts[0],)


def sdk_evidence(path: str, version: str | None) -> Evidence:
    return Evidence("file", f"{path}/SDKSettings.json", (f'"Version": "{version}"',))


def check_clt_xcode(apple: AppleFacts) -> Check:
    cid, title = "macos.clt-xcode", "the Command Line Tools are not older than Xcode"
    clt, xcode = apple.clt_sdk, apple.xcode_sdk
    if clt is None or xcode is None:
        have = "only the Command Line Tools" if clt else "only Xcode" if xcode else "neither"
        beta = apple.section.get("xcode_beta") and (
            f"; Xcode {apple.section.get('xcode_version')} is a beta, which no released Command "
            "Line Tools match"
        )
        return skipped(cid, title, f"nothing to compare: {have} installed{beta or ''}")
    clt_key, xcode_key = sdk_key(clt.version), sdk_key(xcode.version)
    if clt_key is None or xcode_key is None:
        return skipped(cid, title, "an SDK without a version in SDKSettings.json")
    evidence = [sdk_evidence(clt.path, clt.version), sdk_evidence(xcode.path, xcode.version)]
    receipt = apple.clt_receipt
    if receipt is not None and receipt.ok:
        evidence.append(
            receipt.evidence([ln for ln in receipt.stdout.splitlines() if ln.startswith("version")])
        )
    if clt_key >= xcode_key:
        return Check(
            cid, title, "ok", f"CLT SDK {clt.version}, Xcode SDK {xcode.version}", tuple(evidence)
        )
    evidence.extend(_selection_evidence(apple))
    return Check(
        cid,
        title,
        "warning",
        f"the Command Line Tools' SDK {clt.version} is older than Xcode's SDK {xcode.version}: "
        "builds with the CLT selected (go, Homebrew, the terminal) and builds from Xcode use "
        "different SDKs",
        tuple(evidence),
        _clt_xcode_fix(apple),
    )


UPDATE_CLT = (
    'update the Command Line Tools (`softwareupdate --list`, then install the "Command Line Tools '
    'for Xcode" that matches Xcode)'
)


def _clt_xcode_fix(apple: AppleFacts) -> str:
    """What to do about an older CLT, given what is selected now."""
    section = apple.section
    if section.get("xcode_beta"):
        return (
            f"Xcode {section.get('xcode_version')} is a beta: no released Command Line Tools "
            "match it (the beta CLT come from developer.apple.com); builds with the CLT use the "
            "older SDK until a release of both"
        )
    value = apple.environ.get("DEVELOPER_DIR")
    if value:
        return (
            f"{UPDATE_CLT}; DEVELOPER_DIR={value} chooses the developer dir in this shell: "
            "change or unset DEVELOPER_DIR (and your shell profile) to build with the other"
        )
    if section.get("developer_dir_kind") == "xcode":
        return f"{UPDATE_CLT}; Xcode is already selected, so go and cc here use Xcode's SDK"
    return f"{UPDATE_CLT}, or select Xcode: `sudo xcode-select --switch {_xcode_app(apple)}`"


def _xcode_app(apple: AppleFacts) -> str:
    path = apple.xcode_sdk.path if apple.xcode_sdk else ""
    head, found, _ = path.partition(".app/")
    return f"{head}.app" if found else "/Applications/Xcode.app"


def sdk_key(version: str | None) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", version or "")
    return tuple(int(p) for p in parts[:3]) if parts else None


def check_nix_paths(apple: AppleFacts) -> Check:
    cid, title = (
        "macos.nix-paths",
        "DEVELOPER_DIR and SDKROOT point into /nix/store only in a Nix shell",
    )
    environ = apple.environ
    store = {
        key: value
        for key in ("DEVELOPER_DIR", "SDKROOT")
        if (value := environ.get(key)) and value.startswith("/nix/store/")
    }
    if not store:
        return Check(cid, title, "ok", "DEVELOPER_DIR and SDKROOT do not point into /nix/store")
    shell = environ.get("IN_NIX_SHELL")
    lines = (*(f"{k}={v}" for k, v in store.items()), f"IN_NIX_SHELL={shell or '(unset)'}")
    evidence = (Evidence("environment", "environment", lines),)
    if shell:
        return Check(cid, title, "ok", f"inside a Nix shell (IN_NIX_SHELL={shell})", evidence)
    gone = [k for k in store if not apple.store_paths_exist.get(k)]
    return Check(
        cid,
        title,
        "problem" if gone else "warning",
        f"{names(sorted(store))} point into /nix/store outside a Nix shell"
        + (f"; {store[gone[0]]} no longer exists" if gone else "")
        + ": a profile or an unloaded .envrc left the Nix SDK behind",
        evidence,
        f"unset {' '.join(sorted(store))} outside the shell (check ~/.zshrc, ~/.profile and "
        ".envrc), or enter the shell first (`nix-shell`, `nix develop`)",
    )
