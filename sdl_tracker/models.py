"""Frozen records shared across the package: the evidence statement (in-toto Statement v1).

JSON appears only at the edges: `Statement.to_json()` / `Statement.from_json()`.
The field names of the JSON form are a public interface documented in
docs/concepts/evidence.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Union

from sdl_tracker.errors import LedgerError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://sdl-tracker.dev/evidence/v1"
#: The kind of a signed checkpoint entry (a CI key's signature over the ledger head).
CHECKPOINT = "checkpoint"

#: JSON values as they appear in statement details (kind-specific extra data).
JSON = Union[None, bool, int, float, str, list["JSON"], dict[str, "JSON"]]
Number = Union[int, float]

_MAX_SAFE_INT = 2**53 - 1


class ResultStatus(str, enum.Enum):
    """The outcome of one piece of evidence (not of a requirement)."""

    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"
    INFO = "info"


class Provenance(str, enum.Enum):
    """How an entry entered the ledger (see docs/concepts/provenance.md).

    Set by the code path that appends the entry (a collector, `record`), never by the user; the
    evaluation re-derives it and trusts the stored field only where no person could have set it.
    """

    VERIFIED = "verified"
    """A collector ran the tool or read git objects here."""
    INGESTED = "ingested"
    """A collector parsed a report made elsewhere (`collect --from-report`), keeping its digest."""
    ATTESTED = "attested"
    """A person's statement, recorded with `sdl-tracker record` (or a waiver request)."""
    SIGNED = "signed"
    """An attestation whose signature verifies against the roster."""


@dataclass(frozen=True)
class Tool:
    """The tool that produced the evidence."""

    name: str
    version: str


@dataclass(frozen=True)
class Artifact:
    """A stored artifact (report, SBOM, document) named by its SHA-256 digest."""

    name: str
    sha256: str


@dataclass(frozen=True)
class Result:
    """Outcome of the collection: status, a one-line summary and named numbers."""

    status: ResultStatus
    summary: str
    metrics: Mapping[str, Number] = field(default_factory=dict)


@dataclass(frozen=True)
class Predicate:
    """What sdl-tracker says about the subjects."""

    kind: str
    """Evidence kind from the catalogue vocabulary, e.g. `sast`, `pentest_report`."""
    collector: str
    """Collector (or command) that produced it, e.g. `sast`, `record`."""
    tool: Tool
    requirements: tuple[str, ...]
    """Requirement ids this evidence is offered for, e.g. `("SI-2", "SVV-3")`."""
    result: Result
    recorded_by: str
    """Git identity `Name <email>` of whoever recorded it."""
    recorded_at: datetime
    covers: tuple[str, ...] = ()
    """Repository paths the evidence covers (`.` for the whole tree)."""
    inputs: Mapping[str, str] = field(default_factory=dict)
    """Digests of what was read, e.g. `{"tree:src": "<git tree id>"}`."""
    note: str = ""
    details: Mapping[str, JSON] = field(default_factory=dict)
    """Kind-specific extra data (e.g. the entry a reaffirmation points to)."""
    provenance: Provenance | None = None
    """How the entry entered the ledger, as its code path stated it; None in older entries."""


@dataclass(frozen=True)
class Statement:
    """One evidence record: an in-toto Statement v1 with the sdl-tracker predicate."""

    commit: str | None
    """The git commit evaluated (subject `{"gitCommit": sha}`), if any."""
    artifacts: tuple[Artifact, ...]
    predicate: Predicate

    def to_json(self) -> dict[str, JSON]:
        subjects: list[JSON] = []
        if self.commit:
            subjects.append({"name": "commit", "digest": {"gitCommit": self.commit}})
        subjects.extend({"name": a.name, "digest": {"sha256": a.sha256}} for a in self.artifacts)
        p = self.predicate
        return {
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "kind": p.kind,
                "collector": p.collector,
                "tool": {"name": p.tool.name, "version": p.tool.version},
                "requirements": list(p.requirements),
                "result": {
                    "status": p.result.status.value,
                    "summary": p.result.summary,
                    "metrics": dict(p.result.metrics),
                },
                "covers": list(p.covers),
                "inputs": dict(p.inputs),
                "note": p.note,
                "details": dict(p.details),
                "recorded_by": p.recorded_by,
                "recorded_at": format_time(p.recorded_at),
                **({"provenance": p.provenance.value} if p.provenance is not None else {}),
            },
        }

    def fast_canonical_ok(self) -> bool:
        """True when `json.dumps(sort_keys=True)` equals RFC 8785 for this statement.

        That holds when no number is a float or an integer beyond 2**53 and every object key is
        ASCII (RFC 8785 sorts keys by UTF-16 code units, Python by code points).
        """
        p = self.predicate
        for value in p.result.metrics.values():
            if not isinstance(value, int) or abs(value) > _MAX_SAFE_INT:
                return False
        keys = [*p.result.metrics, *p.inputs]
        if not all(k.isascii() for k in keys):
            return False
        return not p.details or _json_simple(dict(p.details))

    @classmethod
    def from_json(cls, data: Any) -> Statement:
        """Parse the JSON form; raises LedgerError naming the first field that is wrong."""
        try:
            return _statement_from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise LedgerError(f"not an sdl-tracker evidence statement: {e!r}") from e


def _json_simple(value: JSON) -> bool:
    if isinstance(value, dict):
        return all(k.isascii() and _json_simple(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_simple(v) for v in value)
    if isinstance(value, float):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= _MAX_SAFE_INT
    return True


def _statement_from_json(data: Any) -> Statement:
    if data["_type"] != STATEMENT_TYPE:
        raise ValueError(f"_type is {data['_type']!r}, expected {STATEMENT_TYPE!r}")
    if data["predicateType"] != PREDICATE_TYPE:
        raise ValueError(f"predicateType is {data['predicateType']!r}")
    commit = None
    artifacts = []
    for subject in data["subject"]:
        digest = subject["digest"]
        if "gitCommit" in digest:
            commit = str(digest["gitCommit"])
        else:
            artifacts.append(Artifact(name=str(subject["name"]), sha256=str(digest["sha256"])))
    p = data["predicate"]
    metrics = p["result"]["metrics"]
    if not all(isinstance(v, (int, float)) for v in metrics.values()):
        raise ValueError("predicate.result.metrics must map names to numbers")
    predicate = Predicate(
        kind=str(p["kind"]),
        collector=str(p["collector"]),
        tool=Tool(name=str(p["tool"]["name"]), version=str(p["tool"]["version"])),
        requirements=tuple(str(r) for r in p["requirements"]),
        result=Result(
            status=ResultStatus(p["result"]["status"]),
            summary=str(p["result"]["summary"]),
            metrics=dict(metrics),
        ),
        covers=tuple(str(c) for c in p["covers"]),
        inputs={str(k): str(v) for k, v in p["inputs"].items()},
        note=str(p["note"]),
        details=dict(p.get("details", {})),
        recorded_by=str(p["recorded_by"]),
        recorded_at=parse_time(p["recorded_at"]),
        provenance=_provenance(p.get("provenance")),
    )
    return Statement(commit=commit, artifacts=tuple(artifacts), predicate=predicate)


def _provenance(value: Any) -> Provenance | None:
    """The stored provenance field; an unknown value reads as absent (the evaluation derives it)."""
    try:
        return Provenance(value) if value is not None else None
    except ValueError:
        return None


def normalise_path(path: str) -> str:
    """A covered path without `./` or trailing `/`; the whole tree is `.`."""
    path = path.strip()
    while path.startswith("./"):
        path = path[2:]
    path = path.strip("/")
    return path or "."


def format_time(t: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, whole seconds (what every entry stores)."""
    if t.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str) -> datetime:
    t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"time {s!r} has no time zone")
    return t.astimezone(timezone.utc)
