"""The benchmarks: each sets up real inputs, checks envsnap handles them, then measures.

A case returns ``Row`` objects; the figures are plain numbers so that ``run.py --json`` can be
checked by a test, and ``met`` says whether the target holds on this machine.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks import modules, timing
from benchmarks.modules import SetupError, run_tool
from benchmarks.toolchain import envsnap_argv

REPO = Path(__file__).resolve().parent.parent
MB = 1024**2


@dataclass(frozen=True)
class Sizes:
    """How big and how often: ``short`` for CI, ``full`` for the figures in the README."""

    runs: int
    few_libraries: int
    many_libraries: int
    packages: int
    hashed_bytes: int
    hash_runs: int


SHORT = Sizes(
    runs=3, few_libraries=20, many_libraries=200, packages=30, hashed_bytes=64 * MB, hash_runs=1
)
FULL = Sizes(
    runs=15,
    few_libraries=20,
    many_libraries=2000,
    packages=300,
    hashed_bytes=1024 * MB,
    hash_runs=5,
)


@dataclass(frozen=True)
class Context:
    sizes: Sizes
    env: Mapping[str, str]
    scratch: Path


@dataclass(frozen=True)
class Row:
    key: str
    what: str
    compared_with: str
    envsnap: float
    baseline: float | None
    unit: str  # of envsnap and baseline
    result: float
    result_unit: str  # "ratio", "ms above", "MB", "x"
    target: str
    met: bool
    note: str = ""


def envsnap(*args: str) -> list[str]:
    return [*envsnap_argv(), *args]


def locked_and_clean(module: Path, env: Mapping[str, str]) -> None:
    """``envsnap lock`` then ``verify`` on *module*, both exit 0, or a SetupError saying which."""
    run_tool(envsnap("lock", "-C", str(module)), env)
    run_tool(envsnap("verify", "-C", str(module)), env)


# --- clean verify against its own probe commands -----------------------------------------------


def probe_script(recording: Path) -> tuple[str, int]:
    """A shell script running every recorded probe command, in order, output discarded."""
    manifest = json.loads((recording / "host.json").read_text())
    lines = ["set +e", "export LC_ALL=C GOTOOLCHAIN=local"]
    for command in manifest["commands"]:
        cwd = command.get("cwd")
        run = shlex.join(command["argv"]) + " >/dev/null 2>&1"
        lines.append(f"(cd {shlex.quote(cwd)} && {run})" if cwd else run)
    return "\n".join(lines) + "\n", len(manifest["commands"])


def verify_warm(ctx: Context) -> list[Row]:
    module = ctx.scratch / "zlib"
    shutil.copytree(REPO / "examples" / "zlib", module, ignore=shutil.ignore_patterns("*.lock"))
    locked_and_clean(module, ctx.env)
    recording = ctx.scratch / "zlib-recording"
    run_tool(envsnap("record", str(recording), "-C", str(module)), ctx.env)
    text, commands = probe_script(recording)
    script = ctx.scratch / "probes.sh"
    script.write_text(text)
    verify = envsnap("verify", "--quiet", "-C", str(module))
    ours, bare = timing.paired_medians(verify, ["sh", str(script)], ctx.env, ctx.sizes.runs)
    return [
        Row(
            "verify_warm",
            "clean `envsnap verify`, warm (examples/zlib)",
            f"its {commands} recorded probe commands run one after another by sh",
            ours * 1000,
            bare * 1000,
            "ms",
            ours / bare,
            "ratio",
            "<= 0.5",
            ours / bare <= 0.5,
        )
    ]


def verify_after_lock(ctx: Context) -> list[Row]:
    """The verify right after a lock that wrote the file, against a warm verify."""
    module = ctx.scratch / "zlib-after-lock"
    shutil.copytree(REPO / "examples" / "zlib", module, ignore=shutil.ignore_patterns("*.lock"))
    locked_and_clean(module, ctx.env)
    lock = module / "envsnap.lock"
    # the lock removed first (so lock writes it), long enough before lock starts that the
    # folder's change is out of the racy window (docs/cache.md), as an edit before a lock is
    relock = ["sh", "-c", f'rm -f {shlex.quote(str(lock))} && sleep 0.2 && exec "$@"', "sh"]
    verify = envsnap("verify", "--quiet", "-C", str(module))
    after, warm = timing.prepared_medians(
        [*relock, *envsnap("lock", "-C", str(module))], verify, verify, ctx.env, ctx.sizes.runs
    )
    return [
        Row(
            "verify_after_lock",
            "clean `envsnap verify` right after a `lock` that wrote the file (examples/zlib)",
            "the warm clean verify after it",
            after * 1000,
            warm * 1000,
            "ms",
            after / warm,
            "ratio",
            "<= 1.2",
            after / warm <= 1.2,
        )
    ]


def verify_drift(ctx: Context) -> list[Row]:
    """A verify that finds one changed flag (new each run, so no memo knows it), against an
    uncached clean verify."""
    module = ctx.scratch / "zlib-drift"
    shutil.copytree(REPO / "examples" / "zlib", module, ignore=shutil.ignore_patterns("*.lock"))
    locked_and_clean(module, ctx.env)
    verify = shlex.join(envsnap("verify", "--quiet", "-C", str(module)))
    drifted = ["sh", "-c", f'CGO_CFLAGS="-O2 -g -DRUN$$" exec {verify}']
    uncached = ["sh", "-c", f"ENVSNAP_NO_CACHE=1 exec {verify}"]
    ours, bare = timing.paired_medians(drifted, uncached, ctx.env, ctx.sizes.runs)
    return [
        Row(
            "verify_drift",
            "`envsnap verify` finding one changed flag (CGO_CFLAGS, examples/zlib)",
            "a clean verify without caches (ENVSNAP_NO_CACHE=1)",
            ours * 1000,
            bare * 1000,
            "ms",
            ours / bare,
            "ratio",
            "<= 2",
            ours / bare <= 2,
        )
    ]


# --- start-up ----------------------------------------------------------------------------------


def startup(ctx: Context) -> list[Row]:
    rows = []
    bare = [sys.executable, "-c", "pass"]
    for flag in ("--version", "--help"):
        ours_all, python_all = timing.paired_runs(envsnap(flag), bare, ctx.env, ctx.sizes.runs * 3)
        ours, python = statistics.median(ours_all), statistics.median(python_all)
        above = (ours - python) * 1000
        fastest = (min(ours_all) - min(python_all)) * 1000
        rows.append(
            Row(
                f"startup{flag.replace('-', '_')}",
                f"`envsnap {flag}`",
                "`python -c pass` (the same interpreter)",
                ours * 1000,
                python * 1000,
                "ms",
                above,
                "ms above",
                "<= 30 ms above",
                above <= 30,
                f"medians; fastest runs {min(ours_all) * 1000:.0f} against "
                f"{min(python_all) * 1000:.0f} ms, +{fastest:.0f} ms",
            )
        )
    return rows


# --- verify with many library files, and its memory ---------------------------------------------


def library_module(ctx: Context, files: int) -> Path:
    module = modules.library_module(ctx.scratch / f"libraries-{files}", files, ctx.env)
    run_tool(["go", "build", "-o", os.devnull, "."], ctx.env, cwd=module)  # links every archive
    locked_and_clean(module, ctx.env)
    return module


def verify_scale(ctx: Context) -> list[Row]:
    few, many = ctx.sizes.few_libraries, ctx.sizes.many_libraries
    small, big = library_module(ctx, few), library_module(ctx, many)
    big_s, small_s = timing.paired_medians(
        envsnap("verify", "--quiet", "-C", str(big)),
        envsnap("verify", "--quiet", "-C", str(small)),
        ctx.env,
        ctx.sizes.runs,
    )
    rc, tree_mb = timing.peak_rss_mb(envsnap("verify", "--quiet", "-C", str(big)), ctx.env)
    rc_self, self_mb = timing.envsnap_self_rss_mb(["verify", "--quiet", "-C", str(big)], ctx.env)
    if rc or rc_self:
        raise SetupError(f"verify of the {many}-file module exited {rc or rc_self}")
    return [
        Row(
            "verify_files",
            f"clean `verify` with {many} locked library files",
            f"the same module shape with {few} files",
            big_s * 1000,
            small_s * 1000,
            "ms",
            big_s / small_s,
            "ratio",
            "<= 1.5",
            big_s / small_s <= 1.5,
        ),
        Row(
            "verify_memory",
            f"verify's peak memory at {many} files",
            "-",
            tree_mb,
            None,
            "MB",
            tree_mb,
            "MB",
            "< 80 MB",
            tree_mb < 80,
            f"largest process of the run (wait4 ru_maxrss); envsnap's own process {self_mb:.0f} MB",
        ),
    ]


# --- lock on many cgo packages ------------------------------------------------------------------


def lock_packages(ctx: Context) -> list[Row]:
    count = ctx.sizes.packages
    module = modules.cgo_packages_module(ctx.scratch / f"packages-{count}", count)
    run_tool(["go", "build", "./..."], ctx.env, cwd=module)
    locked_and_clean(module, ctx.env)
    ours, go = timing.paired_medians(
        envsnap("lock", "-C", str(module)),
        ["go", "list", "-deps", "-json", "./..."],
        ctx.env,
        ctx.sizes.runs,
        cwd=module,
    )
    return [
        Row(
            "lock_packages",
            f"`lock` on a generated module with {count} cgo packages",
            "`go list -deps -json ./...` on it alone",
            ours * 1000,
            go * 1000,
            "ms",
            ours / go,
            "ratio",
            "<= 1.5",
            ours / go <= 1.5,
        )
    ]


# --- hashing throughput -------------------------------------------------------------------------


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _hash_all(paths: Sequence[str], workers: int) -> None:
    from envsnap.hashing import sha256_file

    if workers == 1:
        digests = [sha256_file(p) for p in paths]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            digests = list(pool.map(sha256_file, paths))
    if any(d is None for d in digests):
        raise SetupError("envsnap.hashing.sha256_file could not hash a corpus file")


def _openssl(paths: Sequence[str], env: Mapping[str, str]) -> None:
    subprocess.run(
        ["openssl", "dgst", "-sha256", *paths],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        check=True,
    )


def hashing(ctx: Context) -> list[Row]:
    if shutil.which("openssl", path=ctx.env.get("PATH")) is None:
        raise SetupError("openssl is not on PATH (Debian: apt-get install openssl)")
    files = modules.hashing_corpus(ctx.scratch / "corpus", ctx.sizes.hashed_bytes)
    paths = [str(f) for f in files]
    mb = ctx.sizes.hashed_bytes / MB
    _openssl(paths, ctx.env)  # the page cache is warm for both sides from here on
    runs = ctx.sizes.hash_runs
    openssl_rate = mb / _median_seconds(lambda: _openssl(paths, ctx.env), runs)
    one_rate = mb / _median_seconds(lambda: _hash_all(paths, 1), runs)
    cores = os.cpu_count() or 1
    all_rate = mb / _median_seconds(lambda: _hash_all(paths, cores), runs)
    what = (
        f"cold hashing (no envsnap cache) of {mb:.0f} MB in {len(files)} library-sized files"
        " (page cache warm)"
    )
    baseline = "`openssl dgst -sha256` on the same files (one process)"
    return [
        Row(
            "hash_one_core",
            f"{what}, `envsnap.hashing.sha256_file` on one thread",
            baseline,
            one_rate,
            openssl_rate,
            "MB/s",
            one_rate / openssl_rate,
            "x",
            ">= 0.9x",
            one_rate / openssl_rate >= 0.9,
        ),
        Row(
            "hash_all_cores",
            f"{what}, the same over {cores} threads (os.cpu_count())",
            baseline,
            all_rate,
            openssl_rate,
            "MB/s",
            all_rate / openssl_rate,
            "x",
            "> 1x",
            all_rate / openssl_rate > 1,
        ),
    ]


CASES: dict[str, Callable[[Context], list[Row]]] = {
    "verify_warm": verify_warm,
    "verify_after_lock": verify_after_lock,
    "verify_drift": verify_drift,
    "startup": startup,
    "verify_scale": verify_scale,
    "lock_packages": lock_packages,
    "hashing": hashing,
}
