"""Real Go modules and library files, generated in a temporary directory for the benchmarks.

Everything is built with the real tools: C objects by ``gcc``, archives by ``ar``, cgo packages
checked by ``go build``. A generator raises ``SetupError`` naming the command that failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LIBRARY_PACKAGES = 10  # the same package count at every library count: only the files vary


class SetupError(Exception):
    """A generated module could not be made, built, locked or verified."""


def run_tool(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
    proc = subprocess.run(
        list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise SetupError(f"`{' '.join(argv)[:200]}` exited {proc.returncode}: {tail}")
    return proc.stdout


def write_files(root: Path, files: Mapping[str, str], module: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {module}\n\ngo 1.21\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _ar(env: Mapping[str, str]) -> list[str]:
    """``ar``, told to load gcc's LTO plugin only: by default it also loads every plugin in
    ``bfd-plugins`` (LLVMgold when clang is installed), which costs ~25 ms a call."""
    plugin = run_tool(["gcc", "-print-file-name=liblto_plugin.so"], env).strip()
    return ["ar", "--plugin", plugin] if os.path.isabs(plugin) else ["ar"]


def _archive(ar: list[str], lib_dir: Path, index: int, env: Mapping[str, str]) -> None:
    """``libbNNNN.a``: the same object under its own member name, so every file differs."""
    member = lib_dir / f"b{index:04d}.o"
    shutil.copyfile(lib_dir / "b.o", member)
    run_tool([*ar, "rcs", f"libb{index:04d}.a", member.name], env, cwd=lib_dir)
    member.unlink()


def _library_package(index: int, libs: range) -> str:
    flags = " ".join(f"-lb{i:04d}" for i in libs)
    return (
        f"package lib{index:02d}\n\n"
        f"// #cgo LDFLAGS: -L${{SRCDIR}}/../lib {flags}\n"
        "// int envsnap_bench(void);\n"
        'import "C"\n\n'
        "func Value() int { return int(C.envsnap_bench()) }\n"
    )


def library_module(root: Path, files: int, env: Mapping[str, str]) -> Path:
    """A module of LIBRARY_PACKAGES cgo packages linking *files* static archives in all."""
    lib_dir = root / "lib"
    lib_dir.mkdir(parents=True)
    source = lib_dir / "b.c"
    source.write_text("int envsnap_bench(void) { return 42; }\n")
    run_tool(["gcc", "-c", "-O2", "-o", "b.o", "b.c"], env, cwd=lib_dir)
    ar = _ar(env)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda i: _archive(ar, lib_dir, i, env), range(files)))
    (lib_dir / "b.o").unlink()
    source.unlink()
    per = max(1, files // LIBRARY_PACKAGES)
    packages = {
        f"lib{p:02d}/lib.go": _library_package(p, range(p * per, min(files, (p + 1) * per)))
        for p in range(min(files, LIBRARY_PACKAGES))
    }
    imports = "".join(f'\t"example.com/libs/lib{p:02d}"\n' for p in range(len(packages)))
    calls = "".join(f"\tn += lib{p:02d}.Value()\n" for p in range(len(packages)))
    main = f"package main\n\nimport (\n{imports})\n\nfunc main() {{\n\tn := 0\n{calls}\t_ = n\n}}\n"
    return write_files(root, {**packages, "main.go": main}, "example.com/libs")


def _cgo_package(index: int) -> str:
    if index % 10 == 0:  # one package in ten asks pkg-config, as zlib users do
        return (
            f"package p{index:03d}\n\n// #cgo pkg-config: zlib\n// #include <zlib.h>\n"
            'import "C"\n\nfunc Version() string { return C.GoString(C.zlibVersion()) }\n'
        )
    return (
        f"package p{index:03d}\n\n// #cgo LDFLAGS: -lm\n// #include <math.h>\n"
        f'import "C"\n\nfunc Root() float64 {{ return float64(C.sqrt({index + 2})) }}\n'
    )


def cgo_packages_module(root: Path, packages: int) -> Path:
    """A module of *packages* tiny cgo packages (libm, and zlib through pkg-config)."""
    files = {f"p{i:03d}/p.go": _cgo_package(i) for i in range(packages)}
    return write_files(root, files, "example.com/many")


def hashing_corpus(root: Path, total_bytes: int) -> list[Path]:
    """Library-sized files of random bytes (SHA-256 costs the same whatever the content)."""
    root.mkdir(parents=True)
    sizes = [256 * 1024, 1024**2, 4 * 1024**2, 16 * 1024**2, 32 * 1024**2]
    files: list[Path] = []
    written = 0
    while written < total_bytes:
        size = min(sizes[len(files) % len(sizes)], total_bytes - written)
        path = root / f"lib{len(files):04d}.so"
        with path.open("wb") as out:
            for start in range(0, size, 1024**2):
                out.write(os.urandom(min(1024**2, size - start)))
        files.append(path)
        written += size
    return files
