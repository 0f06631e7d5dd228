"""macOS developer tools: developer dir, Command Line Tools, SDK and Xcode (FIELD-GUIDE §1).

Files are read in preference to spawning Apple's tools: the SDK's ``SDKSettings.json`` instead of
``xcrun --show-sdk-version``, the ``/var/db/xcode_select_link`` symlink before ``xcode-select -p``.

The developer dir is kept as it was given (``DEVELOPER_DIR`` or ``xcode-select``) and as the
real directory behind it, ``developer_dir_realpath`` (runner images link
``/Applications/Xcode_16.3.app`` to ``Xcode_16.3_beta_2.app``): verify compares the real directory.
The SDK, xcrun and Xcode are looked up in the real directory.
"""

from __future__ import annotations

import json
import re

from envsnap.entry import AppleSection
from envsnap.host import Host, ToolNotFound
from envsnap.probes.system import parse_plist
from envsnap.vocabulary import developer_dir_kind

XCODE_SELECT_LINK = "/var/db/xcode_select_link"
CLT_PACKAGE = "com.apple.pkg.CLTools_Executables"
# pkgutil answers from the package's receipt, its plist and its bill of materials
CLT_RECEIPT = f"/var/db/receipts/{CLT_PACKAGE}"
CLT_RECEIPTS = (f"{CLT_RECEIPT}.plist", f"{CLT_RECEIPT}.bom")


def applies(host: Host) -> bool:
    """Whether *host* has Apple's developer tools to probe."""
    from envsnap.platforms import platform_for

    return platform_for(host.system).has_developer_tools


def tool_inputs(section: AppleSection) -> list[str]:
    """The files Apple's tools answer from, beyond those the probe asks about itself: the
    ``xcode-select`` choice, the CLT receipt (``pkgutil --pkg-info``), the selected Xcode's
    ``version.plist`` and ``Info.plist`` (``xcodebuild -version``), and the folder holding the
    SDK links (``MacOSX.sdk`` → ``MacOSX15.0.sdk``) with the SDK's settings. A change to any one
    of them changes its stamp, and the probe runs again."""
    paths = [XCODE_SELECT_LINK, *CLT_RECEIPTS]
    real = section.get("developer_dir_realpath")
    if section.get("developer_dir_kind") == "xcode" and isinstance(real, str):
        app = real.removesuffix("/Contents/Developer")
        paths += [f"{app}/Contents/version.plist", f"{app}/Contents/Info.plist"]
    sdk_path, sdk_real = section.get("sdk_path"), section.get("sdk_realpath")
    if isinstance(sdk_path, str):
        paths += [sdk_path, sdk_path.rsplit("/", 1)[0]]
    if isinstance(sdk_real, str):
        paths.append(f"{sdk_real}/SDKSettings.json")
    return paths


def developer_dir(host: Host) -> tuple[str | None, str]:
    """The active developer dir and where it came from."""
    from_env = host.getenv("DEVELOPER_DIR")
    if from_env:
        return from_env, "DEVELOPER_DIR"
    if host.exists(XCODE_SELECT_LINK):
        return host.realpath(XCODE_SELECT_LINK), "xcode-select"
    try:
        result = host.run(["xcode-select", "-p"])
    except ToolNotFound:
        return None, "xcode-select"
    path = result.out.strip()
    return (path if result.ok and path.startswith("/") else None), "xcode-select"


# A macOS build with a trailing lowercase letter is a seed (beta): 23A5312d is macOS 14.0 beta,
# 24E5238a 15.4 beta; releases end in digits (23A344, 24A336). Xcode builds do not follow it (the
# release Xcode 16.2 is 16C5032a, 16.0 is 16A242d): an Xcode is a beta by its app's name
# (Xcode-beta.app, Xcode_16.3_beta_2.app) or by the beta SDK it ships.
BETA_BUILD = re.compile(r"^\d+[A-Z]\d+[a-z]$")


def is_beta_build(build: object) -> bool:
    return isinstance(build, str) and BETA_BUILD.match(build) is not None


def is_beta_xcode(section: AppleSection) -> bool:
    paths = (section.get("developer_dir"), section.get("developer_dir_realpath"))
    named = any("beta" in str(path).lower() for path in paths if path)
    return named or is_beta_build(section.get("sdk_build"))


def clt_version(host: Host) -> str | None:
    try:
        result = host.run(["pkgutil", f"--pkg-info={CLT_PACKAGE}"])
    except ToolNotFound:
        return None
    match = re.search(r"^version: (\S+)", result.out, re.MULTILINE)
    return match.group(1) if result.ok and match else None


def default_sdk(devdir: str, kind: str) -> str:
    if kind == "clt":
        return f"{devdir}/SDKs/MacOSX.sdk"
    return f"{devdir}/Platforms/MacOSX.platform/Developer/SDKs/MacOSX.sdk"


def read_sdk(host: Host, sdk_path: str) -> AppleSection:
    """Version and build of the SDK at *sdk_path*, from its own files."""
    real = host.realpath(sdk_path)
    section: AppleSection = {"sdk_path": sdk_path, "sdk_realpath": real}
    settings = host.read_bytes(f"{real}/SDKSettings.json")
    try:
        data = json.loads(settings) if settings else {}
    except (ValueError, RecursionError):
        data = {}
    if isinstance(data, dict) and data.get("Version"):
        section["sdk_version"] = str(data["Version"])
        if data.get("CanonicalName"):
            section["sdk_name"] = str(data["CanonicalName"])
    else:
        section["sdk_error"] = f"no SDKSettings.json in {real}"
    plist = host.read_bytes(f"{real}/System/Library/CoreServices/SystemVersion.plist")
    build = parse_plist(plist).get("ProductBuildVersion") if plist else None
    if build:
        section["sdk_build"] = str(build)
    return section


def xcode_version(host: Host) -> AppleSection:
    try:
        result = host.run(["xcodebuild", "-version"])
    except ToolNotFound:
        return {}
    version = re.search(r"^Xcode (\S+)", result.out, re.MULTILINE)
    build = re.search(r"^Build version (\S+)", result.out, re.MULTILINE)
    section: AppleSection = {}
    if result.ok and version:
        section["xcode_version"] = version.group(1)
    if result.ok and build:
        section["xcode_build"] = build.group(1)
    return section


def probe_apple(host: Host) -> AppleSection:
    devdir, source = developer_dir(host)
    if devdir is None:
        return {"error": "no active developer directory (xcode-select -p failed)"}
    real = host.realpath(devdir)
    kind = developer_dir_kind(real)
    section: AppleSection = {
        "developer_dir": devdir,
        "developer_dir_source": source,
        "developer_dir_kind": kind,
        "developer_dir_realpath": real,
        "has_xcrun": host.exists(f"{real}/usr/bin/xcrun"),
    }
    version = clt_version(host)
    if version:
        section["clt_version"] = version
    sdkroot = host.getenv("SDKROOT")
    if sdkroot:
        section["sdk_source"] = "SDKROOT"
    sdk_path = sdkroot or default_sdk(real, kind)
    if host.exists(sdk_path):
        section.update(read_sdk(host, sdk_path))
    else:
        section["sdk_path"] = sdk_path
        section["sdk_error"] = f"{sdk_path} does not exist"
    if is_beta_build(section.get("sdk_build")):
        section["sdk_beta"] = True
    if kind == "xcode" and section["has_xcrun"]:
        section.update(xcode_version(host))
        if is_beta_xcode(section):
            section["xcode_beta"] = True
    return section
