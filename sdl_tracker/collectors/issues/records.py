"""Security-issue records: the YAML format kept in the repository, and OSV / GHSA advisories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from sdl_tracker.cra import clock
from sdl_tracker.errors import InputError
from sdl_tracker.models import JSON

STATES = ("received", "triaged", "assessed", "fixed", "disclosed", "rejected", "wont_fix")
_CLOSED = ("fixed", "disclosed", "rejected", "wont_fix")
_FIELDS = {
    "id",
    "title",
    "source",
    "received",
    "triaged",
    "status",
    "assessment",
    "fixed_in",
    "fixed",
    "released",
    "advisory",
    "disclosed",
    "notes",
    "severity",
    "cra",
    "aliases",
    "drill",
    "tracks",
}
#: Each date field, and the dates it cannot come before.
_ORDER = {
    "triaged": ("received",),
    "fixed": ("received",),
    "disclosed": ("received",),
}


@dataclass(frozen=True)
class Issue:
    id: str
    title: str
    source: Path
    status: str
    received: date | None
    triaged: date | None
    fixed: date | None
    disclosed: date | None
    cvss: str | None
    score: float | None
    severity: str
    """critical, high, medium, low or none (from the CVSS score; `none` when unassessed)."""
    fixed_in: str | None
    advisory: str | None
    aliases: tuple[str, ...] = ()
    cra: clock.Reporting | None = None
    """The EU Cyber Resilience Act Article 14 reporting block (`cra:`), when the record has one."""
    drill: bool = False
    """A test advisory taken through the process to show it works (no real vulnerability)."""
    tracks: tuple[str, ...] = ()
    """What the issue was raised for: finding ids (`B602`, `B602:src/app.py`, an advisory id),
    threat ids or requirement ids of an evaluation (`SI-2`)."""

    @property
    def assessed(self) -> bool:
        """Assessed: a CVSS vector, or a decision past triage (assessed, fixed, rejected …)."""
        return self.cvss is not None or self.status not in ("received", "triaged")

    def names(self) -> tuple[str, ...]:
        """Every id the record answers to: its own, its aliases, its advisory, what it tracks."""
        extra = (self.advisory,) if self.advisory else ()
        return tuple(dict.fromkeys((self.id, *self.aliases, *extra, *self.tracks)))

    @property
    def is_open(self) -> bool:
        return self.status not in _CLOSED

    def to_json(self) -> dict[str, JSON]:
        def day(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "id": self.id,
            "title": self.title,
            "file": self.source.name,
            "status": self.status,
            "received": day(self.received),
            "triaged": day(self.triaged),
            "fixed": day(self.fixed),
            "disclosed": day(self.disclosed),
            "cvss": self.cvss,
            "score": self.score,
            "severity": self.severity,
            "fixed_in": self.fixed_in,
            "advisory": self.advisory,
            **({"cra_kind": self.cra.kind} if self.cra is not None else {}),
            "drill": self.drill,
            **({"tracks": list[JSON](self.tracks)} if self.tracks else {}),
        }

    def tracking(self) -> dict[str, JSON]:
        """What the evaluation matches findings and requirements against (SM-11)."""
        return {
            "id": self.id,
            "names": list[JSON](self.names()),
            "status": self.status,
            "assessed": self.assessed,
        }


def _date(path: Path, field: str, value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise InputError(f"{path}: {field}: expected a date like 2026-03-01, got {value!r}")


def _score(path: Path, field: str, vector: str) -> tuple[float, str]:
    try:
        if vector.startswith("CVSS:4"):
            v4 = CVSS4(vector)
            return float(v4.base_score), str(v4.severity).lower()
        v3 = CVSS3(vector)
        return float(v3.base_score), str(v3.severities()[0]).lower()
    except CVSSError as e:
        raise InputError(
            f"{path}: {field}: not a valid CVSS v3/v4 vector ({e}); "
            "expected e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ) from e


def from_record(path: Path, data: Any) -> Issue:
    """One issue from a YAML record; InputError naming the file and field when malformed."""
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with id, title, received, status")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise InputError(
            f"{path}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})"
        )
    for field in ("id", "title", "received", "status"):
        if data.get(field) in (None, ""):
            raise InputError(f"{path}: {field}: required")
    status = str(data["status"])
    if status not in STATES:
        raise InputError(f"{path}: status: {status!r} is not one of {', '.join(STATES)}")
    assessment = data.get("assessment") or {}
    if not isinstance(assessment, dict):
        raise InputError(f"{path}: assessment: expected a mapping with cvss (a CVSS vector)")
    vector = assessment.get("cvss")
    score, severity = _score(path, "assessment.cvss", str(vector)) if vector else (None, "none")
    drill = data.get("drill", False)
    if not isinstance(drill, bool):
        raise InputError(f"{path}: drill: expected true or false, got {drill!r}")
    if status in ("fixed", "disclosed") and not data.get("fixed"):
        raise InputError(
            f"{path}: fixed: required when status is {status} (the date the fix shipped)"
        )
    cra = clock.parse(path, data["cra"]) if "cra" in data else None
    if (
        cra is not None
        and cra.reportable
        and cra.kind == "vulnerability"
        and status in ("fixed", "disclosed")
        and cra.measure_available_at is None
    ):
        raise InputError(
            f"{path}: cra.measure_available_at: required when status is {status} (when the "
            "corrective or mitigating measure became available, e.g. 2026-11-06T16:00:00Z): "
            "the final report is due 14 days after it"
        )
    return Issue(
        id=str(data["id"]),
        title=str(data["title"]),
        source=path,
        status=status,
        received=_date(path, "received", data.get("received")),
        triaged=_date(path, "triaged", data.get("triaged")),
        fixed=_date(path, "fixed", data.get("fixed")),
        disclosed=_date(path, "disclosed", data.get("disclosed")),
        cvss=str(vector) if vector else None,
        score=score,
        severity=severity,
        fixed_in=str(data["fixed_in"]) if data.get("fixed_in") else None,
        advisory=str(data["advisory"]) if data.get("advisory") else None,
        aliases=_aliases(path, data.get("aliases")),
        cra=cra,
        drill=drill,
        tracks=_ids(path, "tracks", data.get("tracks")),
    )


def check_dates(issue: Issue, today: date) -> None:
    """InputError naming the file and field of an impossible date: one in the future, or one
    before the date it must follow (fixed before received)."""
    dates = {
        "received": issue.received,
        "triaged": issue.triaged,
        "fixed": issue.fixed,
        "disclosed": issue.disclosed,
    }
    for field, value in dates.items():
        if value is not None and value > today:
            raise InputError(
                f"{issue.source}: {field}: {value.isoformat()} is in the future (today is "
                f"{today.isoformat()}): correct the date"
            )
    for field, before in _ORDER.items():
        value = dates[field]
        for other in before:
            earlier = dates[other]
            if value is not None and earlier is not None and value < earlier:
                raise InputError(
                    f"{issue.source}: {field}: {value.isoformat()} is before {other} "
                    f"({earlier.isoformat()}): an issue cannot be {field} before it was {other}; "
                    "correct the record"
                )


def _aliases(path: Path, value: Any) -> tuple[str, ...]:
    return _ids(path, "aliases", value)


_EXAMPLES = {
    "aliases": "[CVE-2026-1234, GHSA-xxxx-xxxx-xxxx]",
    "tracks": "[B602:src/app/run.py, PYSEC-2023-221, T3, SVV-4]",
}


def _ids(path: Path, field: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{path}: {field}: expected a list of ids such as {_EXAMPLES[field]}")
    return tuple(v.strip() for v in value)


def from_advisory(path: Path, data: Any) -> Issue:
    """A published OSV or GitHub Security Advisory record, as a disclosed issue."""
    if not isinstance(data, dict) or not isinstance(data.get("id") or data.get("ghsa_id"), str):
        raise InputError(f"{path}: expected an OSV record (id, published) or a GHSA (ghsa_id)")
    ident = str(data.get("id") or data.get("ghsa_id"))
    published = _date(path, "published", data.get("published") or data.get("published_at"))
    vector = None
    for entry in data.get("severity") or []:
        if isinstance(entry, dict) and str(entry.get("score", "")).startswith("CVSS:"):
            vector = str(entry["score"])
    cvss_block = data.get("cvss")
    if vector is None and isinstance(cvss_block, dict) and cvss_block.get("vector_string"):
        vector = str(cvss_block["vector_string"])
    score, severity = _score(path, "severity", vector) if vector else (None, "none")
    fixed = None
    for affected in data.get("affected") or []:
        for rng in (affected or {}).get("ranges") or []:
            for event in (rng or {}).get("events") or []:
                if isinstance(event, dict) and "fixed" in event:
                    fixed = str(event["fixed"])
    return Issue(
        id=ident,
        title=str(data.get("summary") or ident),
        source=path,
        status="disclosed",
        # An advisory says when it was published, not when the issue was received or fixed:
        # it adds no time-to-triage or time-to-fix figures.
        received=None,
        triaged=None,
        fixed=None,
        disclosed=published,
        cvss=vector,
        score=score,
        severity=severity,
        fixed_in=fixed,
        advisory=ident,
        aliases=tuple(str(a) for a in data.get("aliases") or () if isinstance(a, str)),
    )
