"""The checks on one threat model (pure): treatment of every threat, tests, staleness.

- every threat is mitigated or accepted (an acceptance past its `expires` date counts as open);
- every mitigation names a test, and every requirement it names is in the requirements file;
- the model is current: no file its components own changed in a commit after the model's last
  commit, and that commit is at most `max_age_days` old.

Any of those failing -> `fail`. Nothing failing but something unknown (no threats, the model is
not committed or has uncommitted changes) -> `incomplete`. Otherwise `pass`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sdl_tracker.collectors.threat_model.history import History
from sdl_tracker.formats.threatmodel.model import ThreatModel, ThreatStatus
from sdl_tracker.formats.threatmodel.requirements import SecurityRequirement
from sdl_tracker.models import JSON, ResultStatus

DEFAULT_MAX_AGE_DAYS = 365


@dataclass(frozen=True)
class Assessment:
    status: ResultStatus
    summary: str
    metrics: dict[str, int]
    details: dict[str, JSON]


def assess(
    model: ThreatModel,
    history: History | None,
    requirements: Sequence[SecurityRequirement] | None,
    *,
    now: datetime,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    requirements_file: str = "",
) -> Assessment:
    """Check `model`; `history` None means the file is outside the repository."""
    today = now.date()
    expired = [
        r.threat for r in model.accepted_risks if r.expires is not None and r.expires < today
    ]
    statuses = [ThreatStatus.OPEN if t.id in expired else t.status for t in model.threats]
    open_ids = [t.id for t, s in zip(model.threats, statuses) if s is ThreatStatus.OPEN]
    untested = [m.id for m in model.mitigations if not m.tests]
    known = {r.id for r in requirements} if requirements is not None else None
    unknown = [
        f"{m.id} -> {r}"
        for m in model.mitigations
        for r in m.requirements
        if known is not None and r not in known
    ]
    failures: list[str] = []
    gaps: list[str] = []
    if open_ids:
        failures.append(f"{len(open_ids)} open: {_ids(open_ids)}")
    if expired:
        failures.append(f"acceptance expired for {_ids(expired)}")
    if untested:
        failures.append(f"{len(untested)} mitigation(s) name no test: {_ids(untested)}")
    if unknown:
        failures.append(f"unknown requirement ids (not in {requirements_file}): {_ids(unknown)}")
    age_days = None
    if history is None:
        gaps.append(
            "the file is outside the repository, so its age and staleness are unknown; "
            "commit it and collect from the repository"
        )
    elif history.commit is None or history.committed_at is None:
        gaps.append("the file is not committed: commit it so its age and staleness can be checked")
    else:
        if history.dirty:
            gaps.append("the file has uncommitted changes: commit them")
        age_days = (now - history.committed_at).days
        if history.changed:
            failures.append(
                f"stale: {len(history.changed)} owned file(s) changed after the model's last "
                f"commit {history.commit[:12]}: {_ids(history.changed)}"
            )
        if age_days > max_age_days:
            failures.append(
                f"stale: last changed {history.committed_at.date().isoformat()}, {age_days} days "
                f"ago (maximum {max_age_days})"
            )
    if not model.threats:
        gaps.append(
            "the model lists no threats: an empty model is not evidence; record the threats found"
        )
    counts = {
        "threats": len(statuses),
        "mitigated": statuses.count(ThreatStatus.MITIGATED),
        "accepted": statuses.count(ThreatStatus.ACCEPTED),
        "open": statuses.count(ThreatStatus.OPEN),
        # SR-4: requirements stating their target capability security level (the file's schema
        # requires it of each); SD-2: mitigated threats countered by two or more mitigations.
        "security_requirements": len(requirements) if requirements is not None else 0,
        "layered": _layered(model, statuses),
    }
    status = (
        ResultStatus.FAIL if failures else ResultStatus.INCOMPLETE if gaps else ResultStatus.PASS
    )
    head = (
        f"{model.path} ({model.format.value}): {counts['threats']} threats, "
        f"{counts['mitigated']} mitigated, {counts['accepted']} accepted, {counts['open']} open"
    )
    if status is ResultStatus.PASS:
        owned = "no owned file changed since" if model.owned_paths() else "it owns no paths"
        tail = [
            f"every mitigation names a test; current (last changed {age_days} days ago, {owned})"
        ]
    else:
        tail = failures + gaps
    details: dict[str, JSON] = {
        "model": model.path,
        "format": model.format.value,
        "open": list(open_ids),
        "expired_acceptances": list(expired),
        "untested_mitigations": list(untested),
        "unknown_requirements": list(unknown),
        "owned_paths": list(model.owned_paths()),
        "max_age_days": max_age_days,
        "model_commit": history.commit if history else None,
        "model_committed_at": (
            history.committed_at.isoformat() if history and history.committed_at else None
        ),
        "age_days": age_days,
        "stale_files": list(history.changed) if history else [],
        "requirements_file": requirements_file if known is not None else None,
    }
    return Assessment(status, "; ".join([head, *tail]), counts, details)


def _layered(model: ThreatModel, statuses: Sequence[ThreatStatus]) -> int:
    mitigated = {t.id for t, s in zip(model.threats, statuses) if s is ThreatStatus.MITIGATED}
    layers = {tid: sum(tid in m.threats for m in model.mitigations) for tid in mitigated}
    return sum(1 for n in layers.values() if n >= 2)


def _ids(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return f"{shown} (+{len(ids) - limit} more)" if len(ids) > limit else shown
