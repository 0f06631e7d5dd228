"""A pytest plugin of scripts/mutate's, loaded in mutmut's test runs: what the Pythons a test
started reached (envsnap_mutate_child.py wrote it down) counts as reached by the test, as mutmut
counts what the test process itself reached.

PYTEST_DONT_REWRITE: mutmut imports it once for the many pytest sessions of one process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent / "reach"


@pytest.hookimpl(tryfirst=True)  # before mutmut's own teardown hook takes what was reached
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") != "stats" or not FOLDER.is_dir():
        return
    from mutmut.state import state

    for file in sorted(FOLDER.glob("*.reach")):
        state()._stats.update(file.read_text(encoding="utf-8").split())
        file.unlink()
