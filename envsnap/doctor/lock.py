"""The lock check: what ``envsnap verify`` concludes about this machine, as one check (a line
per build variant when envsnap.toml declares variants)."""

from __future__ import annotations

from envsnap.doctor.facts import STATUS_ORDER, Check, Evidence, Facts, LockSummary, Status, skipped

FIX = "run `envsnap verify` for what changed and why; `envsnap lock` once the change is intended"


def _status(lock: LockSummary) -> Status:
    return "problem" if lock.unusable or lock.errors else "warning" if lock.warnings else "ok"


def _evidence(lock: LockSummary) -> Evidence:
    command = f"envsnap verify --variant {lock.variant}" if lock.variant else "envsnap verify"
    return Evidence("command", command, (lock.line, *lock.subjects[:5]))


def check_lock(facts: Facts) -> Check:
    cid, title = "lock.verify", "the machine matches envsnap.lock"
    if not facts.lock:
        return skipped(cid, title, "no envsnap.lock beside go.mod")
    status = min((_status(lock) for lock in facts.lock), key=STATUS_ORDER.index)
    summary = "; ".join(lock.line for lock in facts.lock)
    evidence = tuple(_evidence(lock) for lock in facts.lock)
    return Check(cid, title, status, summary, evidence, "" if status == "ok" else FIX)
