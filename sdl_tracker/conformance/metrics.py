"""Process metrics the tool derives itself from the ledger, per release, for maturity level 4.

For each release (a gate verdict), from the newest entry of each kind collected on the release
commit and recorded before the verdict: `findings` (the static analysis' high + medium + low
findings plus the dependency audit's vulnerabilities), `review_ratio` (independently reviewed
commits / commits of the release range), `median_days_to_triage` and `median_days_to_fix` (the
security issues). A metric that no such entry supports is left out, never guessed. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.verdicts import ReleaseVerdict
from sdl_tracker.models import ResultStatus

NAMES = ("findings", "review_ratio", "median_days_to_triage", "median_days_to_fix")
"""The metrics derived from evidence; improvement actions name one of them (or `gate`)."""
_KINDS = ("sast", "dependency_audit", "review_record", "issue_tracker_record")


@dataclass(frozen=True)
class ReleaseMetrics:
    release: str
    values: Mapping[str, float]


def derive(
    releases: Iterable[ReleaseVerdict], records: Iterable[Record]
) -> tuple[ReleaseMetrics, ...]:
    """The metrics of each release, in the order given."""
    recs = [r for r in records if r.statement.predicate.kind in _KINDS]
    found = []
    for v in releases:
        newest: dict[str, Record] = {}
        for r in recs:
            p = r.statement.predicate
            if r.statement.commit == v.commit and r.seq < v.seq:
                if p.result.status is not ResultStatus.INCOMPLETE:
                    newest[p.kind] = r
        found.append(ReleaseMetrics(str(v.release), _values(newest)))
    return tuple(found)


def _values(newest: Mapping[str, Record]) -> dict[str, float]:
    values: dict[str, float] = {}
    sast = _metrics(newest.get("sast"))
    deps = _metrics(newest.get("dependency_audit"))
    if sast is not None and all(k in sast for k in ("high", "medium", "low")):
        values["findings"] = sast["high"] + sast["medium"] + sast["low"]
        if deps is not None and "vulnerabilities" in deps:
            values["findings"] += deps["vulnerabilities"]
    review = _metrics(newest.get("review_record"))
    if review and review.get("commits") and "independently_reviewed" in review:
        values["review_ratio"] = round(review["independently_reviewed"] / review["commits"], 3)
    issues = _metrics(newest.get("issue_tracker_record"))
    for key in ("median_days_to_triage", "median_days_to_fix"):
        if issues is not None and key in issues:
            values[key] = issues[key]
    return values


def _metrics(r: Record | None) -> dict[str, float] | None:
    if r is None:
        return None
    m = r.statement.predicate.result.metrics
    return {k: float(v) for k, v in m.items() if isinstance(v, (int, float))}


def named(text: str) -> tuple[str, ...]:
    """The metric names an improvement action's text mentions."""
    words = set(text.replace(",", " ").replace(".", " ").replace(":", " ").split())
    return tuple(n for n in NAMES if n in words)
