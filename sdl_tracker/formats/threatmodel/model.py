"""The normalised threat model every format is read into (native YAML and the importers).

Frozen records only; `ThreatModel.to_json()` is the normalised JSON stored beside the original
file in the ledger.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from sdl_tracker.models import JSON

STRIDE = (
    "spoofing",
    "tampering",
    "repudiation",
    "information_disclosure",
    "denial_of_service",
    "elevation_of_privilege",
)


class ModelFormat(str, enum.Enum):
    """Where a model came from."""

    NATIVE = "native"
    THREAT_DRAGON = "threat-dragon"
    THREAGILE = "threagile"
    PYTM = "pytm"


class ThreatStatus(str, enum.Enum):
    """A threat's declared treatment."""

    OPEN = "open"
    MITIGATED = "mitigated"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class System:
    name: str
    description: str = ""
    owner: str = ""


@dataclass(frozen=True)
class Asset:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Component:
    """A part of the system and the repository paths (globs) it owns."""

    id: str
    name: str
    kind: str = ""
    paths: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrustBoundary:
    id: str
    name: str
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataFlow:
    id: str
    source: str
    target: str
    data: tuple[str, ...] = ()
    protocol: str = ""
    crosses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Threat:
    id: str
    title: str
    category: str
    """A STRIDE name (`tampering`, ...) when the source uses STRIDE, else its own category."""
    status: ThreatStatus
    targets: tuple[str, ...] = ()
    likelihood: str = ""
    impact: str = ""
    description: str = ""


@dataclass(frozen=True)
class Mitigation:
    id: str
    title: str
    threats: tuple[str, ...]
    requirements: tuple[str, ...] = ()
    """Security requirement ids (from the security requirements file) it implements."""
    tests: tuple[str, ...] = ()
    """Test ids that verify it (pytest node ids or JUnit `classname.name`)."""


@dataclass(frozen=True)
class AcceptedRisk:
    threat: str
    rationale: str
    approver: str
    date: dt.date | None
    expires: dt.date | None = None


@dataclass(frozen=True)
class ThreatModel:
    """One model file, whatever its format."""

    path: str
    format: ModelFormat
    system: System
    threats: tuple[Threat, ...]
    mitigations: tuple[Mitigation, ...] = ()
    accepted_risks: tuple[AcceptedRisk, ...] = ()
    assets: tuple[Asset, ...] = ()
    components: tuple[Component, ...] = ()
    trust_boundaries: tuple[TrustBoundary, ...] = ()
    data_flows: tuple[DataFlow, ...] = ()
    includes: tuple[str, ...] = ()
    """Repository paths of the files the model includes (Threagile `includes:`), in order."""

    def owned_paths(self) -> tuple[str, ...]:
        """Every path glob its components own, in order, without repeats."""
        return tuple(dict.fromkeys(p for c in self.components for p in c.paths))

    def to_json(self) -> dict[str, JSON]:
        return {
            "path": self.path,
            "format": self.format.value,
            "system": _fields(self.system),
            "assets": [_fields(a) for a in self.assets],
            "components": [_fields(c) for c in self.components],
            "trust_boundaries": [_fields(b) for b in self.trust_boundaries],
            "data_flows": [_fields(f) for f in self.data_flows],
            "threats": [_fields(t) for t in self.threats],
            "mitigations": [_fields(m) for m in self.mitigations],
            "accepted_risks": [_fields(r) for r in self.accepted_risks],
            **({"includes": list[JSON](self.includes)} if self.includes else {}),
        }


def stride(raw: str) -> str:
    """`Information disclosure`, `information-disclosure` -> `information_disclosure`."""
    key = "_".join(raw.strip().lower().replace("-", " ").split())
    return key


def _fields(record: object) -> dict[str, JSON]:
    result: dict[str, JSON] = {}
    for name, value in vars(record).items():
        result[name] = _value(value)
    return result


def _value(value: object) -> JSON:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"cannot serialise {value!r}")  # pragma: no cover - a programming error


_REF_LINE = re.compile(r"^\s*[-*]?\s*(tests?|requirements?)\s*:\s*(.+?)\s*$", re.I | re.M)


def refs_from_text(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(tests, requirements) named on `Tests: a, b` / `Requirements: SR-1` lines of free text.

    Imported formats have no fields linking a mitigation to tests or requirements; these lines
    in the mitigation text (or risk-tracking justification) are how a team records them.
    """
    tests: list[str] = []
    requirements: list[str] = []
    for match in _REF_LINE.finditer(text):
        names = [n.strip().strip("`") for n in re.split(r"[,\s]+", match.group(2))]
        target = tests if match.group(1).lower().startswith("test") else requirements
        target.extend(n for n in names if n)
    return tuple(dict.fromkeys(tests)), tuple(dict.fromkeys(requirements))
