"""What `envsnap help VERB` teaches beyond the one-line summary: a description and examples.

Kept apart from the verbs' parsers so that the texts are read in one place, and from
``SUMMARIES`` so that a clean verify never imports them.
"""

DESCRIPTIONS = {
    "init": (
        "Set a module up in one step: `envsnap lock`, `envsnap hook install` and `envsnap git "
        "setup` (in a git repository), and `envsnap emit --direnv` or `--nix` when asked. It "
        "says what it locked and which files to commit; run again, it changes nothing that is "
        "already in place."
    ),
    "lock": (
        "Probe this machine (Go, the C compiler and linker, on macOS the developer tools and "
        "SDK, the libraries the module's cgo directives reach, tracked variables) and write "
        "this platform's entries of envsnap.lock beside go.mod, one per build variant. The "
        "other platforms' entries are kept byte for byte."
    ),
    "verify": (
        "Compare this machine with envsnap.lock without writing anything. Every drift is "
        "named with its severity, why it matters and the fix. Exit 0 when it matches "
        "(warnings allowed unless --strict), 1 on drift, 2 when the lock cannot be used."
    ),
    "inspect": (
        "Read what a built binary says about its build (Go build information; ELF .comment, "
        "needed libraries and glibc versions; Mach-O SDK, minimum macOS, linker, dylibs) and "
        "compare it with the lock entry of its platform, with verify's rules and exit codes."
    ),
    "sbom": (
        "Write a CycloneDX 1.6 or SPDX 2.3 bill of materials of a lock entry: each C library "
        "with its version, its files' SHA-256 and its provider's package URL, how it is linked, "
        "the cgo packages that use it, and the Go toolchain, C compiler, linker and macOS SDK "
        "as the build's tools. With BINARY, of what that binary holds and loads, compared with "
        "its entry as inspect does (exit 1 when it differs; the document is written anyway). "
        "Two runs give the same bytes. Needs the sbom extra: pip install 'envsnap-cgo[sbom]'."
    ),
    "diff": (
        "Compare two sides with verify's rules: A is the base, B the newer side. A side is a "
        "lock file, a git revision (REV or REV:path), a recording directory or `live` (this "
        "machine). With no side, envsnap.lock is compared with this machine. With one, a "
        "machine (`live`, a recording) is compared with envsnap.lock as verify does; a lock "
        "file or revision is the base and envsnap.lock the newer side, as `git diff REV` reads."
    ),
    "emit": (
        "Write a file that recreates the locked toolchain on another machine: a shell.nix, a "
        "flake.nix, a direnv .envrc, or the native package lists (apt script, Brewfile, a "
        "GitHub Actions job). A file envsnap did not write is replaced only with --force."
    ),
    "show": "Print the live snapshot of this machine, as `lock` would record it, without a lock.",
    "doctor": (
        "Run the field guide's checks on this machine and module, each with its evidence and "
        "a fix: why `go run` works and `go test` does not, a missing SDK, a Go that does not "
        "match go.mod. Needs no lock; when there is one, it also says how this machine differs."
    ),
    "record": (
        "Run every probe and keep what it saw (secrets redacted) in DIR. Attach DIR to a bug "
        "report, or replay it anywhere with `envsnap --replay DIR COMMAND`."
    ),
    "log": (
        "List the commits that changed envsnap.lock, newest first: for each platform entry, "
        "who changed it and when, and what drifted, in verify's words."
    ),
    "hook": (
        "Install or remove a git pre-commit hook that runs `envsnap verify`. A hook that is "
        "already there is kept and runs first; uninstall restores it."
    ),
    "git": (
        "Let git merge envsnap.lock one platform entry at a time: writes the .gitattributes "
        "line and the local merge-driver configuration."
    ),
    "merge-driver": (
        "The merge driver git runs for envsnap.lock (set up by `envsnap git setup`): entries "
        "of different platforms merge; the same platform changed on both sides is a conflict."
    ),
    "completion": (
        "Print the shell completion script for bash, zsh or fish. Bash needs the "
        "bash-completion package."
    ),
    "help": "Show the overview, or one command's description, options and examples.",
}

EXAMPLES = {
    "init": [
        ("envsnap init", "lock, hook, merge driver"),
        ("envsnap init --direnv", "the same, and an .envrc"),
    ],
    "lock": [
        ("envsnap lock", "write this platform's entry"),
        ("envsnap lock --check", "exit 1 when the lock would change (CI)"),
        ("envsnap lock -C ./service", "lock the module that holds ./service"),
    ],
    "verify": [
        ("envsnap verify", "compare this machine with envsnap.lock"),
        ("envsnap verify --strict --json", "warnings fail too; a JSON report on stdout"),
        ("envsnap verify --rev origin/main", "against the lock as committed there"),
    ],
    "inspect": [
        ("envsnap inspect ./app", "was ./app built with the locked toolchain?"),
        ("envsnap inspect --show ./app", "what the binary says, no lock needed"),
    ],
    "sbom": [
        ("envsnap sbom -o sbom.cdx.json", "this platform's entry, CycloneDX"),
        ("envsnap sbom --format spdx-json ./app", "what ./app holds and loads, SPDX, on stdout"),
    ],
    "diff": [
        ("envsnap diff", "the lock against this machine"),
        ("envsnap diff HEAD~1", "what changed in the lock since HEAD~1"),
        ("envsnap diff old.lock new.lock --platform linux-amd64", "two files, one platform"),
    ],
    "emit": [
        ("envsnap emit --direnv", "an .envrc that exports the locked settings"),
        ("envsnap emit --nix --stdout", "print a shell.nix"),
        ("envsnap emit --apt -o setup.sh", "the locked Debian packages, as a script"),
    ],
    "show": [("envsnap show --json", "the live snapshot as JSON")],
    "doctor": [("envsnap doctor", "every check, with evidence and fixes")],
    "record": [
        ("envsnap record /tmp/mymac", "record this machine"),
        ("envsnap --replay /tmp/mymac verify", "verify as that machine"),
    ],
    "log": [("envsnap log --platform darwin-arm64", "the history of one platform's entry")],
    "hook": [("envsnap hook install", "verify before every commit")],
    "git": [("envsnap git setup", "merge envsnap.lock per platform")],
    "merge-driver": [("envsnap merge-driver -- %O %A %B %P", "as git runs it")],
    "completion": [
        ("envsnap completion bash", 'the script; ~/.bashrc evaluates it with eval "$(…)"')
    ],
    "help": [("envsnap help emit", "the emit command's options and examples")],
}


def epilog(verb: str) -> str:
    """The examples of a verb, aligned, for the end of its help."""
    examples = EXAMPLES.get(verb, [])
    if not examples:
        return ""
    width = max(len(line) for line, _ in examples)
    rows = [f"  {line.ljust(width)}  {why}" for line, why in examples]
    return "examples:\n" + "\n".join(rows) + "\n"
