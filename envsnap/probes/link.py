"""The link cmd/go asks of the external linker, and the library files that link opens.

cmd/go gives each cgo package ``$CGO_LDFLAGS`` (go env), then its ``#cgo LDFLAGS``, then the
output of ``pkg-config --libs`` for its ``#cgo pkg-config`` modules (cmd/go/internal/work/exec.go,
``buildFlags`` and ``cgo``); cmd/link appends every package's flags to one external link, driven
by ``$CC``, or ``$CXX`` when a package of the build has C++ files (cmd/go/internal/work/gc.go).
As in GNU ld, every ``-L`` of that link applies to every ``-l`` of it.

Two ways to find what that link opens, both shared by lock, verify and doctor:

* :func:`resolve_traced` links an empty C program with exactly those flags through the real
  driver with the linker's trace on (``-Wl,--trace``; ``-Wl,-t`` for Apple's ld) and reads the
  files the linker reports; a failing link is reported with the linker's own words.
* :func:`resolve_fast` models GNU ld's search without linking: the ``-L`` dirs of the whole link in
  order, then the driver's dirs (``-print-search-dirs``) and ld's ``SEARCH_DIR``; ``-Bstatic`` /
  ``-Bdynamic`` / ``-static`` in flag order; ``-l:file`` names; ld scripts. Every directory and
  candidate file is looked at through the Host.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from envsnap.entry import CgoPackage
from envsnap.errors import EnvsnapError
from envsnap.host import CommandResult, Host, ToolNotFound
from envsnap.platforms import platform_for
from envsnap.probes import printed_text
from envsnap.probes.cc import compiler_words, go_words, program_options

Key = tuple[str, str]  # ("ldflags", "-l name or :file") or ("pkg-config", module)

STATIC_ON = frozenset({"-Bstatic", "-static", "-dn", "-non_shared"})
STATIC_OFF = frozenset({"-Bdynamic", "-dy", "-call_shared"})
# driver options whose value is the next word (that word is no input file)
TWO_WORD = frozenset(
    {"-L", "-l", "-framework", "-weak_framework", "-Xlinker", "-isysroot", "-arch", "-o", "-u"}
)
LIBRARY_FILE = re.compile(r"\.(a|so(\.\d+)*|dylib|tbd)$")
LINK_TIMEOUT = 60.0
PKG_CONFIG_BROKEN = "run it by hand; its .pc file, or a wrapper in front of pkg-config, is broken"
_LD_SCRIPT_WORDS = re.compile(r"[^\s(),]+")
_SEARCH_DIR = re.compile(r'SEARCH_DIR\("=?([^"]+)"\)')


@dataclass(frozen=True)
class Input:
    """One library the link opens: ``-lz``, ``-l:libz.a`` or a file named directly."""

    words: tuple[str, ...]  # as on the command line (``-l z`` is two words)
    name: str  # "z", ":libz.a", or the file itself for a bare word
    bare: bool  # a file named directly: the driver opens it relative to the link's directory
    static: bool  # -Bstatic in force at this point of the link
    key: Key
    package: str = ""  # the cgo package whose flags hold it

    @property
    def shown(self) -> str:
        return self.name if self.bare else f"-l{self.name}"


@dataclass(frozen=True)
class LinkPlan:
    """The external link of the module's cgo packages, as cmd/go and cmd/link would run it."""

    driver: tuple[str, ...]  # $CC or $CXX, split like a shell line
    words: tuple[str | Input, ...]  # every argument, in order
    dirs: tuple[str, ...]  # the -L dirs of the whole link, in order (absolute)
    cwd: str
    failures: dict[Key, str] = field(default_factory=dict)  # pkg-config that could not answer
    used_by: dict[Key, tuple[str, ...]] = field(default_factory=dict)  # entry -> package paths

    @property
    def inputs(self) -> list[Input]:
        return [w for w in self.words if isinstance(w, Input)]


@dataclass
class Resolution:
    """What one lock entry's libraries resolve to: files in link order, and what failed."""

    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add_file(self, path: str) -> None:
        if path not in self.files:
            self.files.append(path)


# The one option of ``#cgo pkg-config:`` that changes what ``--libs`` prints. A repository's
# other words that look like options (``--define-variable=…``, ``--with-path=…``) are never
# handed to pkg-config, and neither is a "name" that pkg-config would read as an option or a
# response file (``-x``, ``@file``): cmd/go refuses those names too (load.SafeArg).
PKG_CONFIG_OPTIONS = frozenset({"--static"})


def is_pkg_config_name(arg: str) -> bool:
    """A module name or ``.pc`` path that no tool can take for an option."""
    return bool(arg) and not arg.startswith(("-", "@")) and arg.isprintable() and " " not in arg


def split_pkg_config(args: Iterable[str]) -> tuple[list[str], list[str]]:
    """``CgoPkgConfig`` mixes options (``--static``) and module names or ``.pc`` paths; any
    other word is left out (see :func:`unsafe_pkg_config`)."""
    options: list[str] = []
    modules: list[str] = []
    for arg in args:
        if arg in PKG_CONFIG_OPTIONS:
            options.append(arg)
        elif is_pkg_config_name(arg):
            modules.append(arg)
    return options, modules


def unsafe_pkg_config(args: Iterable[str]) -> list[str]:
    """The words of ``#cgo pkg-config:`` that are neither a known option nor a safe name."""
    return [a for a in args if a not in PKG_CONFIG_OPTIONS and not is_pkg_config_name(a)]


def link_driver(go_env: dict[str, str], system: str, cxx: bool) -> tuple[str, ...]:
    """``$CXX`` when a package of the build has C++ files, else ``$CC`` (cmd/go's ``ld``)."""
    return tuple(compiler_words(go_env, system, cxx))


def search_driver(go_env: dict[str, str], system: str, cxx: bool) -> tuple[str, ...]:
    """The link driver with the options of $CGO_LDFLAGS that change its search (``-B DIR``
    adds DIR to the libraries' as well as the programs'), to ask it where it looks."""
    return (*link_driver(go_env, system, cxx), *program_options(go_env))


class _Builder:
    """Turns flag lists into plan words, keeping the -Bstatic state and the -L dirs."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self.words: list[str | Input] = []
        self.dirs: list[str] = []
        self.static = False
        self.driver_static = False
        self.package = ""
        self.used_by: dict[Key, set[str]] = {}

    def use(self, key: Key) -> None:
        self.used_by.setdefault(key, set()).add(self.package)

    def add_dir(self, directory: str) -> None:
        path = posixpath.normpath(posixpath.join(self.cwd, directory))
        if path not in self.dirs:
            self.dirs.append(path)

    def linker_option(self, option: str) -> None:
        if option in STATIC_ON:
            self.static = True
        elif option in STATIC_OFF:
            self.static = False
        elif option.startswith("-L") and len(option) > 2:
            self.add_dir(option[2:])

    def library(self, words: tuple[str, ...], name: str, bare: bool, key: Key) -> None:
        self.words.append(Input(words, name, bare, self.static, key, self.package))
        self.use(key)

    def add(self, flags: Sequence[str], key_of: Callable[[str], Key]) -> None:
        """Append *flags*; ``key_of(name)`` names the lock entry a library belongs to."""
        i = 0
        while i < len(flags):
            word = flags[i]
            value = flags[i + 1] if word in TWO_WORD and i + 1 < len(flags) else None
            if value is not None:
                self._two_words(word, value, key_of)
                i += 2
                continue
            self._one_word(word, key_of)
            i += 1

    def _two_words(self, word: str, value: str, key_of: Callable[[str], Key]) -> None:
        if word == "-l":
            self.library((word, value), value, False, key_of(value))
            return
        if word == "-L":
            self.add_dir(value)
        elif word == "-Xlinker":
            self.linker_option(value)
        self.words += [word, value]

    def _one_word(self, word: str, key_of: Callable[[str], Key]) -> None:
        if word.startswith("-l") and len(word) > 2:
            self.library((word,), word[2:], False, key_of(word[2:]))
            return
        if word.startswith("-L") and len(word) > 2:
            self.add_dir(word[2:])
        elif word.startswith("-Wl,"):
            for option in word[4:].split(","):
                self.linker_option(option)
        elif word == "-static":  # the driver passes -static to ld before every input
            self.driver_static = True
        elif not word.startswith("-") and LIBRARY_FILE.search(word):
            self.library((word,), word, True, key_of(":" + word))
            return
        self.words.append(word)


def pkg_config_libs(host: Host, pkg_config: str, options: list[str], module: str) -> str:
    """``pkg-config --libs`` for one module; raises with pkg-config's own message."""
    try:
        result = host.run([pkg_config, "--libs", *options, module])
    except ToolNotFound as exc:
        raise EnvsnapError(exc.message, exc.hint) from None
    if not result.ok:
        said = (result.err.strip() or result.out.strip()).splitlines()[:1]
        raise EnvsnapError(
            f"pkg-config cannot find `{module}`" + (f": {said[0]}" if said else ""),
            "install its -dev package, or add its .pc directory to PKG_CONFIG_PATH",
        )
    return printed_text(result, PKG_CONFIG_BROKEN)


def pkg_config_words(text: str) -> list[str]:
    """pkg-config's output in words: cmd/go reads it as a shell would (splitPkgConfigOutput:
    quotes and backslashes), not as it splits its variables (envsnap.quoted)."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _always(key: Key) -> Callable[[str], Key]:
    """Every library a pkg-config module's flags name belongs to the module's entry."""
    return lambda _name: key


def link_plan(
    host: Host,
    packages: Sequence[CgoPackage],
    go_env: dict[str, str],
    module_dir: str,
    pkg_config: str,
) -> LinkPlan:
    """The module's external link: per package $CGO_LDFLAGS, #cgo LDFLAGS, pkg-config --libs.

    One pkg-config call per module and options (as recorded hosts hold them), however many
    packages name it; cmd/go asks once per package with every module of it, which differs only
    in pkg-config's de-duplication.
    """
    builder = _Builder(module_dir)
    env_flags = go_words(go_env, "CGO_LDFLAGS")
    failures: dict[Key, str] = {}
    asked: dict[tuple[tuple[str, ...], str], str | EnvsnapError] = {}

    def libs(options: list[str], module: str) -> str:
        said = asked.get((tuple(options), module))
        if said is None:
            try:
                said = pkg_config_libs(host, pkg_config, options, module)
            except EnvsnapError as exc:
                said = exc
            asked[(tuple(options), module)] = said
        if isinstance(said, EnvsnapError):
            raise said
        return said

    for pkg in packages:
        builder.package = pkg["path"]
        builder.add(env_flags + pkg["ldflags"], lambda n: ("ldflags", n))
        options, modules = split_pkg_config(pkg["pkg_config"])
        for word in unsafe_pkg_config(pkg["pkg_config"]):
            builder.use(("pkg-config", word))
            failures[("pkg-config", word)] = (
                f"`{word}` is not a pkg-config package name; envsnap does not pass it to pkg-config"
            )
        for module in modules:
            key = ("pkg-config", module)
            builder.use(key)
            try:
                text = libs(options, module)
            except EnvsnapError as exc:
                failures[key] = exc.message
                continue
            builder.add(pkg_config_words(text), _always(key))
    cxx = any(pkg.get("cxx") for pkg in packages)
    driver = link_driver(go_env, host.system, cxx)
    words = builder.words
    if builder.driver_static:
        words = [replace(w, static=True) if isinstance(w, Input) else w for w in words]
    used_by = {key: tuple(sorted(users)) for key, users in builder.used_by.items()}
    return LinkPlan(driver, tuple(words), tuple(builder.dirs), module_dir, failures, used_by)


# --- the fast resolver: GNU ld's search, modelled -------------------------------------------


def linker_search_dirs(host: Host, driver: Sequence[str]) -> list[str]:
    """Where the driver's linker looks after the -L dirs: the driver's dirs, then ld's own."""
    try:
        result = host.run([*driver, "-print-search-dirs"])
    except ToolNotFound:
        return []
    dirs: list[str] = []
    for line in result.out.splitlines():
        if line.startswith("libraries:"):
            raw = line.split(":", 1)[1].strip().removeprefix("=")
            dirs = [posixpath.normpath(d) for d in raw.split(":") if d]
    return list(dict.fromkeys(dirs + ld_search_dirs(host, driver)))


def ld_search_dirs(host: Host, driver: Sequence[str]) -> list[str]:
    """``SEARCH_DIR`` of the default linker script (``ld --verbose``): /usr/local/lib and so on."""
    try:
        named = host.run([*driver, "-print-prog-name=ld"]).out.strip() or "ld"
        ld = named if named.startswith("/") else host.which(named)
        if ld is None:
            return []
        result = host.run([ld, "--verbose"])
    except ToolNotFound:
        return []
    return [posixpath.normpath(d) for d in _SEARCH_DIR.findall(result.out)] if result.ok else []


def candidates(host: Host, item: Input) -> list[str]:
    """The file names ``-l`` tries in each directory, in the linker's order."""
    if item.name.startswith(":"):
        return [item.name[1:]]
    return platform_for(host.system).library_names(item.name, item.static)


def find_in_dirs(host: Host, names: list[str], dirs: Iterable[str]) -> str | None:
    """The first of *names* in the first directory holding one.

    Every candidate is looked at through ``host.stat``, found or not, so a layer that records
    the host's answers sees each file whose appearance would change the pick.
    """
    for directory in dirs:
        for name in names:
            path = posixpath.normpath(posixpath.join(directory, name))
            found = host.stat(path)
            if found is not None and found.kind == "file":
                return path
    return None


def find_input(host: Host, item: Input, dirs: Sequence[str], cwd: str) -> str | None:
    """The file the linker opens for *item*, or None when it finds none."""
    if item.bare:
        path = posixpath.normpath(posixpath.join(cwd, item.name))
        info = host.stat(path)
        return path if info is not None and info.kind == "file" else None
    if item.name.startswith(":/"):
        return item.name[1:] if host.exists(item.name[1:]) else None
    return find_in_dirs(host, candidates(host, item), dirs)


def ld_script_members(host: Host, path: str, dirs: Sequence[str], cwd: str) -> list[str]:
    """Files a GNU ld script (glibc's ``libm.so``) makes the linker open; [] for a library."""
    if not platform_for(host.system).reads_linker_scripts:
        return []
    info = host.stat(path)
    if info is None or info.size > 16 * 1024:
        return []
    head = host.read_bytes(path, 16 * 1024) or b""
    if b"\0" in head[:1024]:
        return []
    text = re.sub(r"/\*.*?\*/", " ", head.decode("utf-8", errors="replace"), flags=re.DOTALL)
    members: list[str] = []
    for body in _script_groups(text):
        for word in _LD_SCRIPT_WORDS.findall(body):
            found = _script_member(host, word, dirs, cwd)
            if found is not None and found not in members:
                members.append(found)
    return members


def _script_groups(text: str) -> list[str]:
    """The contents of each ``GROUP ( ... )`` and ``INPUT ( ... )``, nested parentheses kept."""
    bodies = []
    for start in re.finditer(r"\b(?:GROUP|INPUT)\s*\(", text):
        depth, end = 1, start.end()
        while end < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        bodies.append(text[start.end() : end - 1])
    return bodies


def _script_member(host: Host, word: str, dirs: Sequence[str], cwd: str) -> str | None:
    if word in ("AS_NEEDED", "GROUP", "INPUT"):
        return None
    if word.startswith("-l"):
        item = Input((word,), word[2:], False, False, ("", ""))
        return find_input(host, item, dirs, cwd)
    if word.startswith("/"):
        return word if host.exists(word) else None
    if LIBRARY_FILE.search(word):
        return find_in_dirs(host, [word], [cwd, *dirs])
    return None


def resolve_fast(host: Host, plan: LinkPlan, default_dirs: Sequence[str]) -> dict[Key, Resolution]:
    """Each lock entry's files as GNU ld's search would find them, without linking."""
    dirs = list(dict.fromkeys([*plan.dirs, *default_dirs]))
    found = _with_failures(plan)
    for item in plan.inputs:
        resolution = found.setdefault(item.key, Resolution())
        path = find_input(host, item, dirs, plan.cwd)
        if path is None:
            where = "" if item.bare else " in the -L dirs or the linker's search path"
            resolution.errors.append(f"{item.shown} resolves nowhere{where}")
            continue
        for member in [path, *ld_script_members(host, path, dirs, plan.cwd)]:
            resolution.add_file(member)
    return found


def _with_failures(plan: LinkPlan) -> dict[Key, Resolution]:
    return {key: Resolution(errors=[message]) for key, message in plan.failures.items()}


# --- the truth: the real link, traced --------------------------------------------------------


def trace_flag(host: Host) -> str:
    return platform_for(host.system).linker_trace_flag


def resolve_traced(host: Host, plan: LinkPlan) -> dict[Key, Resolution]:
    """Each lock entry's files as the real linker reports opening them.

    An empty program is linked with the plan's flags; an empty object placed before each
    library is a landmark in the trace, so every file the linker reports is owned by the
    library after the landmark before it.
    """
    found = _with_failures(plan)
    inputs = plan.inputs
    if not inputs:
        return found
    import tempfile  # only a traced link needs a scratch folder (and tempfile's random names)

    scratch = Path(tempfile.mkdtemp(prefix="envsnap-link-"))
    try:
        argv, marks = _trace_argv(host, plan, scratch)
        result = host.run(argv, cwd=plan.cwd, timeout=LINK_TIMEOUT)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    owned = _owned_files(result.out + "\n" + result.err, marks, plan.cwd)
    complaint = [] if result.ok else _linker_complaint(result.err or result.out)
    first = _first_occurrences(inputs)
    for item in inputs:
        files = owned[first[_identity(item)]]
        resolution = found.setdefault(item.key, Resolution())
        for path in files:
            resolution.add_file(path)
        if not files and complaint:
            resolution.errors.append(_complaint_for(item, complaint))
    return found


def _identity(item: Input) -> tuple[tuple[str, ...], bool]:
    """What decides the file an input opens: GNU ld applies every -L dir to every -l, wherever
    it stands, so the same words in the same -Bstatic state open the same file."""
    return item.words, item.static


def _first_occurrences(inputs: list[Input]) -> dict[tuple[tuple[str, ...], bool], int]:
    """Each distinct input's position among the distinct inputs, in link order."""
    first: dict[tuple[tuple[str, ...], bool], int] = {}
    for item in inputs:
        first.setdefault(_identity(item), len(first))
    return first


def _trace_argv(host: Host, plan: LinkPlan, scratch: Path) -> tuple[list[str], list[str]]:
    """The traced link's command line and its landmarks (one per distinct library, one at the
    end)."""
    (scratch / "main.c").write_text("int main(void) { return 0; }\n")
    (scratch / "mark.c").write_text("/* envsnap: a landmark in the linker's trace */\n")
    compiled = host.run(
        [*plan.driver, "-x", "c", "-c", "main.c", "mark.c"], cwd=str(scratch), timeout=LINK_TIMEOUT
    )
    failure = _compile_failure(compiled, scratch)
    if failure is not None:
        raise EnvsnapError(
            f"cannot compile an empty program: {failure}",
            "check that the C compiler works: `go env CC`, then compile a hello-world with it",
        )
    marks: list[str] = []
    argv = [*plan.driver, "-o", str(scratch / "a.out"), str(scratch / "main.o")]
    seen: set[tuple[tuple[str, ...], bool]] = set()
    for word in plan.words:
        if not isinstance(word, Input):
            argv.append(word)
        elif _identity(word) not in seen:  # a repeated -lm opens what the first one opened
            seen.add(_identity(word))
            marks.append(_mark(scratch, len(marks)))
            argv += [marks[-1], *word.words]
    marks.append(_mark(scratch, len(marks)))
    return [*argv, marks[-1], trace_flag(host)], marks


def _compile_failure(compiled: CommandResult, scratch: Path) -> str | None:
    """What went wrong compiling the landmarks: a failure, or a driver that printed something,
    exited 0 and wrote no object (a wrapper that is not a compiler)."""
    if not compiled.ok:
        return compiled.describe_failure()
    missing = [name for name in ("main.o", "mark.o") if not (scratch / name).is_file()]
    return f"`{compiled.shown}` exited 0 but wrote no {missing[0]}" if missing else None


def _mark(scratch: Path, index: int) -> str:
    path = scratch / f"envsnap-mark-{index}.o"
    shutil.copyfile(scratch / "mark.o", path)
    return str(path)


def _owned_files(trace: str, marks: list[str], cwd: str) -> list[list[str]]:
    """The files reported between each landmark and the next."""
    owned: list[list[str]] = [[] for _ in marks[:-1]]
    position = {mark: i for i, mark in enumerate(marks)}
    current: int | None = None
    for line in trace.splitlines():
        path = _trace_path(line.strip())
        if path in position:
            current = position[path] if position[path] < len(owned) else None
        elif path and current is not None:
            absolute = posixpath.normpath(posixpath.join(cwd, path))
            if absolute not in owned[current]:
                owned[current].append(absolute)
    return owned


def _trace_path(line: str) -> str:
    """The file one trace line names: ``path``, ``(archive)member`` or ``archive(member)``."""
    if not line or " " in line:  # warnings and errors, not file names
        return ""
    if line.startswith("("):  # GNU ld given -t twice
        return line[1 : line.index(")")] if ")" in line else ""
    member = re.match(r"^(.+\.a)\((.+)\)$", line)  # lld
    if member:
        return member[1]
    return "" if ":" in line else line


def _linker_complaint(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line for line in lines if not _trace_path(line)][:6]


def _complaint_for(item: Input, complaint: list[str]) -> str:
    """The linker's own lines about *item*, else the first lines of what it said."""
    own = [line for line in complaint if re.search(rf"(^|[\s:]){re.escape(item.shown)}\b", line)]
    return "the link fails: " + "; ".join(own or complaint[:3])
