"""Every finding on the project's recordings (macOS and Linux alike), each lock taken on one
and verified on another of the same module and machine: a proven action, or a manual one that
says what to type."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.proven.harness import Outcome, every_outcome, every_pair, pairs, recordings, systems


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Outcome]]:
    return list(every_outcome(tmp_path_factory.mktemp("proven")))


def test_the_recordings_give_pairs_and_findings(outcomes: list[tuple[str, Outcome]]) -> None:
    assert len(list(pairs())) >= 100
    assert {o.finding.id for _, o in outcomes} >= {"os.version", "apple.sdk_version", "incomplete"}


def test_every_kind_of_recorded_machine_is_enumerated() -> None:
    """Linux recordings are paired as the macOS ones are (the one Debian recording has no
    companion of its module yet, so it gives no pair)."""
    assert systems() == ["darwin", "linux"]
    assert recordings("linux") and set(pairs("linux")) <= set(every_pair())
    assert set(pairs("darwin")) <= set(every_pair())


def test_no_offered_action_fails_to_clear_its_finding(outcomes: list[tuple[str, Outcome]]) -> None:
    unproven = [f"{pair}: {o.finding.id}: {o.detail}" for pair, o in outcomes]
    unproven = [
        line for line, (_, o) in zip(unproven, outcomes, strict=True) if o.verdict == "unproven"
    ]
    assert unproven == []


def test_a_manual_action_says_exactly_what_to_run(outcomes: list[tuple[str, Outcome]]) -> None:
    manual = [o for _, o in outcomes if o.verdict == "manual"]
    assert manual  # the incomplete lock's re-lock at least
    assert all(o.detail.startswith(("envsnap lock", "download ", "sudo ")) for o in manual)


def test_every_finding_has_a_proven_or_manual_action(
    outcomes: list[tuple[str, Outcome]],
) -> None:
    lacking = Counter(o.finding.id for _, o in outcomes if not o.ok)
    assert lacking == Counter()
