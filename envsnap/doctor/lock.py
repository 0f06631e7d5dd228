"""The lock check: what ``envsnap verify`` concludes about this machine, as one check."""

from __future__ import annotations

from envsnap.doctor.facts import Check, Evidence, Facts, Status, skipped


def check_lock(facts: Facts) -> Check:
    cid, title = "lock.verify", "the machine matches envsnap.lock"
    lock = facts.lock
    if lock is None:
        return skipped(cid, title, "no envsnap.lock beside go.mod")
    status: Status = (
        "problem" if lock.unusable or lock.errors else "warning" if lock.warnings else "ok"
    )
    evidence = (Evidence("command", "envsnap verify", (lock.line, *lock.subjects[:5])),)
    fix = (
        ""
        if status == "ok"
        else (
            "run `envsnap verify` for what changed and why; `envsnap lock` once the change is "
            "intended"
        )
    )
    return Check(cid, title, status, lock.line, evidence, fix)
