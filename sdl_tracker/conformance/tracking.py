"""Every problem of the evaluation tracked: an assessed security-issue record or a waiver (pure).

Used by a rule leaf with `tracks_findings: true` (SM-11 in the default policy). The problems are
the requirements this evaluation finds failing, incomplete or partial, and the open findings of
the evidence that is current for the commit:

- SAST findings at or above the severity threshold the collector ran with (`details.findings`,
  `details.severity_threshold`), named `B602` or `B602:path`;
- any other evidence's `details.findings` and the dependency audit's open vulnerabilities (ids
  and aliases; `not_affected` ones are not open);
- the threat model's open threats (`details.open`, expired acceptances included).

An issue record (the issues collector's `details.tracking`) addresses a problem when one of the
ids it answers to (its id, aliases, advisory and `tracks:` list) names it and it is assessed (a
CVSS vector, or a status past triaged); a record already `fixed` or `disclosed` does not address
a problem that is still found. A finding waiver (`sdl-tracker waive B602 …`) addresses a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sdl_tracker.conformance import waivers as waivers_mod
from sdl_tracker.conformance.findings import listed
from sdl_tracker.conformance.model import Status, Waiver
from sdl_tracker.conformance.selection import Index
from sdl_tracker.models import Predicate

#: Requirement statuses that are problems found (missing evidence is a gap the gate reports).
UNMET = (Status.FAILING, Status.INCOMPLETE, Status.PARTIAL)
ISSUE_KIND = "issue_tracker_record"
_SKIP = {ISSUE_KIND, waivers_mod.KIND, "release_gate_record"}
_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_CLOSED = ("fixed", "disclosed")
_SHOWN = 8


@dataclass(frozen=True)
class Problem:
    """One thing that needs an issue record: a requirement not met, or an open finding."""

    label: str
    ids: tuple[str, ...]
    """What a record's `tracks:` (or a finding waiver) may name, narrowest last."""
    finding: bool = True


@dataclass(frozen=True)
class Tracker:
    """One issue record as the issues collector lists it in `details.tracking`."""

    id: str
    names: frozenset[str]
    status: str
    assessed: bool


def trackers(predicate: Predicate) -> list[Tracker] | None:
    """The issue records an issues entry lists, or None when it predates `details.tracking`."""
    raw = predicate.details.get("tracking")
    if not isinstance(raw, list):
        return None
    found = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        names = item.get("names")
        found.append(
            Tracker(
                id=str(item["id"]),
                names=frozenset(n for n in names if isinstance(n, str))
                if isinstance(names, list)
                else frozenset({str(item["id"])}),
                status=str(item.get("status", "")),
                assessed=item.get("assessed") is True,
            )
        )
    return found


def problems(index: Index, unmet: Mapping[str, Status]) -> list[Problem]:
    """The requirements not met (of `unmet`, those in `UNMET`) and the open findings of the
    evidence current for the commit (the newest entry of each kind per covered paths)."""
    found = [
        Problem(f"{rid} ({status.value.replace('_', ' ')})", (rid,), finding=False)
        for rid, status in unmet.items()
        if status in UNMET
    ]
    seen: set[str] = set()
    for kind in sorted(index.by_kind):
        if kind in _SKIP:
            continue
        for r in index.selection(kind, None).winners:
            origin = index.origin(r)
            if isinstance(origin, str):
                continue
            for p in _findings(kind, origin.seq, origin.statement.predicate):
                if p.label not in seen:
                    seen.add(p.label)
                    found.append(p)
    return found


def _findings(kind: str, seq: int, predicate: Predicate) -> Iterable[Problem]:
    details = predicate.details
    threshold = details.get("severity_threshold")
    if isinstance(threshold, str) and isinstance(details.get("findings"), list):
        floor = _RANK.get(threshold.lower(), 0)
        for item in details["findings"]:  # type: ignore[union-attr]
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            severity = str(item.get("severity", "")).lower()
            if _RANK.get(severity, 0) < floor:
                continue
            fid, path = str(item["id"]), item.get("path")
            where = f" {path}:{item.get('line')}" if isinstance(path, str) else ""
            ids = (fid, f"{fid}:{path}") if isinstance(path, str) else (fid,)
            yield Problem(f"{fid}{where} ({severity}, {kind} entry {seq})", ids)
    else:
        for f in listed(predicate):
            severity = f" {f.severity}," if f.severity else ""
            yield Problem(f"{f.id} ({kind}{severity} entry {seq})", f.ids)
    opened = details.get("open") if kind == "threat_model" else None
    if isinstance(opened, list):
        model = details.get("model")
        for tid in opened:
            if isinstance(tid, str):
                yield Problem(f"threat {tid} open in {model} ({kind} entry {seq})", (tid,))


def untracked(
    found: Sequence[Problem], records: Sequence[Tracker], waivers: Sequence[Waiver]
) -> tuple[list[str], list[str]]:
    """(problems without an assessed record or waiver, each with why; those addressed)."""
    missing, addressed = [], []
    for p in found:
        naming = [t for t in records if t.names.intersection(p.ids)]
        good = [t for t in naming if t.assessed and t.status not in _CLOSED]
        waiver = next((w for fid in p.ids if (w := waivers_mod.active(waivers, fid))), None)
        if good:
            addressed.append(f"{p.label}: {good[0].id}")
        elif waiver is not None and p.finding:
            addressed.append(f"{p.label}: waiver entry {waiver.seq}")
        elif naming:
            t = naming[0]
            why = "not assessed yet" if not t.assessed else f"{t.status}, yet still found"
            missing.append(f"{p.label} ({t.id} is {why})")
        else:
            missing.append(p.label)
    return missing, addressed


def shown(items: Sequence[str]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return "; ".join(items[:_SHOWN]) + more
