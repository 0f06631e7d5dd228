"""macOS: clang and ld64 from the developer dir xcode-select chooses, an SDK, Mach-O, text
stubs (.tbd) beside dylibs, Homebrew."""

from __future__ import annotations

from envsnap.platforms.base import Unix


class Darwin(Unix):
    default_cc = "clang"
    default_cxx = "clang++"
    has_developer_tools = True
    reads_os_release = False
    linker_on_path = True
    library_dirs_from_sdk = True
    reads_linker_scripts = False  # ld64 has none
    linker_trace_flag = "-Wl,-t"
    package_manager: str | None = "brew"
    runner_labels: tuple[str, ...] = ("macos-", "xcode-")
    library_suffixes: tuple[str, ...] = (".tbd", ".dylib", ".so", ".a")

    def library_names(self, name: str, static: bool) -> list[str]:
        """ld64 ignores ``-static`` for ``-l``: it takes the first of its suffixes it finds."""
        return [f"lib{name}{suffix}" for suffix in self.library_suffixes]


DARWIN = Darwin("darwin")
