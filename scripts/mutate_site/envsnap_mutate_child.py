"""What a Python started by a test reaches, for scripts/mutate.

mutmut learns which tests reach which function by recording, in the test process, the functions
each test calls (while MUTANT_UNDER_TEST=stats). A test that runs ``python -m envsnap``, or a git
hook that does, reaches functions in that child process too. scripts/mutate makes the envsnap of
its temporary copy load this file on import; in such a child it writes the names of the functions
reached to a file of the folder ``reach`` beside it, and envsnap_mutate_reach adds them to the
test's. mutmut's own recorder is not called there: it reads its settings from the current folder.
"""

import atexit
import os
import sys

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reach")


def _write(reached: set[str]) -> None:
    if reached:
        with open(os.path.join(FOLDER, f"{os.getpid()}.reach"), "w", encoding="utf-8") as file:
            file.write("\n".join(sorted(reached)))


def record() -> None:
    """In a child of a test, while mutmut maps tests to functions: record what is reached."""
    mapping = os.environ.get("MUTANT_UNDER_TEST") == "stats"
    if not mapping or "_pytest" in sys.modules or not os.path.isdir(FOLDER):
        return
    from mutmut.mutation import trampoline

    reached: set[str] = set()

    def reach(name: str, caller: str | None = None) -> None:
        reached.add(name)

    trampoline.record_trampoline_hit = reach  # type: ignore[attr-defined]  # from mutmut.stats
    atexit.register(_write, reached)


record()
