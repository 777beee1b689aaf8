"""Gate verdicts as ledger entries: the record a gate run appends, and reading them back.

Every gate run appends one `release_gate_record` entry (collector `gate`) whose
`predicate.details` holds `release`, `commit`, `passed`, `catalog`, `policy`, `policy_digest`,
`statuses` (requirement id → status), `practices` (practice id → whether every requirement of
the practice passed: maturity level 3 counts a release per practice), `ratchet` (regressions
found) and `waivers` (entry numbers of the waivers in force); the full `conformance.json` is
stored as its artifact. These entries are the baseline of `gate --ratchet` and the release
history maturity level 3 is computed from.

Each framework (`gate --framework cra`) keeps its own verdicts: `catalog` names the catalogue the
verdict was judged against (absent in entries older than that key: IEC 62443-4-1), and a verdict
for one catalogue is never evidence, baseline or history for another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sdl_tracker import __version__
from sdl_tracker.conformance.evidence import Record
from sdl_tracker.conformance.model import SEVERITY, Conformance, RequirementResult, Status
from sdl_tracker.models import (
    JSON,
    Artifact,
    Predicate,
    Provenance,
    Result,
    ResultStatus,
    Statement,
    Tool,
)

KIND = "release_gate_record"
COLLECTOR = "gate"
REQUIREMENTS = ("SM-11", "SM-12")
DEFAULT_CATALOG = "iec62443-4-1:2018"


@dataclass(frozen=True)
class ReleaseVerdict:
    """One gate verdict read from the ledger."""

    release: str | None
    commit: str | None
    seq: int
    passed: bool
    statuses: Mapping[str, Status]
    catalog: str = DEFAULT_CATALOG
    """The catalogue the verdict was judged against."""
    at: datetime | None = None
    """When the gate ran (the entry's `recorded_at`)."""
    practices: Mapping[str, bool] | None = None
    """Per practice: whether every requirement of it passed this gate; None in verdicts
    recorded before the gate wrote per-practice results."""


def read(r: Record) -> ReleaseVerdict | None:
    """The verdict an entry records, or None when it is not a (well-formed) gate record."""
    p = r.statement.predicate
    if p.kind != KIND or p.collector != COLLECTOR:
        return None
    statuses = p.details.get("statuses")
    release = p.details.get("release")
    catalog = p.details.get("catalog", DEFAULT_CATALOG)
    if not isinstance(statuses, dict) or not (release is None or isinstance(release, str)):
        return None
    if not isinstance(catalog, str):
        return None
    parsed = {}
    for rid, value in statuses.items():
        try:
            parsed[rid] = Status(value)
        except ValueError:
            return None
    practices = p.details.get("practices")
    return ReleaseVerdict(
        release=release,
        commit=r.statement.commit,
        seq=r.seq,
        passed=p.details.get("passed") is True,
        statuses=parsed,
        catalog=catalog,
        at=p.recorded_at,
        practices={str(k): v for k, v in practices.items() if isinstance(v, bool)}
        if isinstance(practices, dict)
        else None,
    )


def practice_outcomes(requirements: Iterable[RequirementResult]) -> dict[str, bool]:
    """Per practice: whether every one of its requirements passes (the gate's sense)."""
    found: dict[str, bool] = {}
    for r in requirements:
        found[r.practice] = found.get(r.practice, True) and r.status.passes
    return found


def foreign(r: Record, catalog: str) -> bool:
    """Whether the entry is a gate verdict judged against another catalogue than `catalog`."""
    p = r.statement.predicate
    if p.kind != KIND:
        return False
    return p.details.get("catalog", DEFAULT_CATALOG) != catalog


def releases(
    records: Iterable[Record], catalog: str = DEFAULT_CATALOG
) -> tuple[ReleaseVerdict, ...]:
    """The newest verdict of each release (gate runs with `--release`) judged against
    `catalog`, in ledger order."""
    newest: dict[str, ReleaseVerdict] = {}
    for r in records:
        v = read(r)
        if v is not None and v.release and v.catalog == catalog:
            newest.pop(v.release, None)
            newest[v.release] = v
    return tuple(newest.values())


def previous(
    records: Iterable[Record], release: str | None, catalog: str = DEFAULT_CATALOG
) -> ReleaseVerdict | None:
    """The baseline of a ratchet: the newest verdict of a release other than `release`."""
    earlier = [v for v in releases(records, catalog) if v.release != release]
    return earlier[-1] if earlier else None


def regressions(conf: Conformance, baseline: ReleaseVerdict) -> tuple[tuple[str, str], ...]:
    """(requirement id, what changed) for each requirement worse now than at the baseline."""
    worse = []
    for result in conf.requirements:
        before = baseline.statuses.get(result.requirement_id)
        if before is not None and SEVERITY.index(result.status) < SEVERITY.index(before):
            worse.append(
                (
                    result.requirement_id,
                    f"{before.value} at {baseline.release}, now {result.status.value}",
                )
            )
    return tuple(worse)


def statement(
    conf: Conformance,
    *,
    passed: bool,
    ratchet: Sequence[tuple[str, str]],
    who: str,
    now: datetime,
) -> tuple[Statement, dict[str, bytes]]:
    """The gate's own verdict entry, and its `conformance.json` artifact."""
    report = json.dumps(conf.to_json(), indent=2, sort_keys=True).encode()
    subject = Artifact(name="conformance.json", sha256=hashlib.sha256(report).hexdigest())
    counts: dict[str, int] = {s.value: 0 for s in Status}
    for result in conf.requirements:
        counts[result.status.value] += 1
    failing = [r.requirement_id for r in conf.requirements if not r.status.passes]
    label = conf.release or conf.commit[:10]
    summary = (
        f"gate {label}: passed"
        if passed
        else f"gate {label}: failed ({len(failing)} requirements not met"
        + (f", {len(ratchet)} regressions" if ratchet else "")
        + ")"
    )
    statuses: dict[str, JSON] = {r.requirement_id: r.status.value for r in conf.requirements}
    details: dict[str, JSON] = {
        "release": conf.release,
        "commit": conf.commit,
        "passed": passed,
        **({"catalog": conf.catalog} if conf.catalog != DEFAULT_CATALOG else {}),
        "policy": conf.policy,
        "policy_digest": conf.policy_digest,
        "statuses": statuses,
        "practices": dict[str, JSON](practice_outcomes(conf.requirements)),
        "ratchet": [f"{rid}: {what}" for rid, what in ratchet],
        "waivers": [w.seq for w in conf.waivers if w.counts],
        "maturity": {p.practice: p.maturity for p in conf.practices},
    }
    st = Statement(
        commit=conf.commit,
        artifacts=(subject,),
        predicate=Predicate(
            kind=KIND,
            collector=COLLECTOR,
            tool=Tool(name="sdl-tracker", version=__version__),
            requirements=REQUIREMENTS if conf.catalog == DEFAULT_CATALOG else _naming(conf),
            result=Result(
                status=ResultStatus.PASS if passed else ResultStatus.FAIL,
                summary=summary,
                metrics={**counts, "requirements": len(conf.requirements)},
            ),
            details=details,
            recorded_by=who,
            recorded_at=now,
            provenance=Provenance.VERIFIED,
        ),
    )
    return st, {subject.sha256: report}


def _naming(conf: Conformance) -> tuple[str, ...]:
    """The requirements of another framework whose rule asks for this gate's verdict."""
    return tuple(r.requirement_id for r in conf.requirements if KIND in r.rule)
