"""deps: a vulnerability's severity, scored from the CVSS vectors of its OSV record.

OSV records carry `severity: [{type: CVSS_V3 | CVSS_V4 | CVSS_V2, score: <vector>}]` (at the
top, or per affected package). The base score is computed from the vector by the `cvss`
package, never taken from a label; when a record gives several versions the newest one is used
(CVSS v4.0, else v3.x, else v2), as the advisory databases show it. A record without a vector,
an audit whose service does not carry severity (pip-audit's PyPI service, an ingested pip-audit
report) or a record that could not be fetched gives an *unknown* severity with the reason, and
no number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from sdl_tracker.models import JSON

_ORDER = ("CVSS_V4", "CVSS_V3", "CVSS_V2")


@dataclass(frozen=True)
class Severity:
    """A CVSS base score and the vector it was computed from, or why there is none."""

    score: float | None
    vector: str = ""
    source: str = ""
    """Where the vector came from (`OSV record PYSEC-… in …`), or why no score is known."""

    def to_json(self) -> JSON:
        return {"score": self.score, "vector": self.vector or None, "source": self.source}


def unknown(reason: str) -> Severity:
    return Severity(None, "", reason)


def from_osv(entries: Sequence[tuple[str, str]], record: str) -> Severity:
    """The score of the newest CVSS vector among an OSV record's `severity` entries."""
    problems = []
    for kind in _ORDER:
        for typ, vector in entries:
            if typ != kind:
                continue
            try:
                return Severity(_base_score(kind, vector), vector, record)
            except (CVSSError, ValueError, KeyError, TypeError) as e:
                problems.append(f"{kind} {vector!r} is not a valid vector ({e})")
    if problems:
        return unknown(f"{record}: " + "; ".join(problems))
    others = sorted({typ for typ, _ in entries})
    if others:
        return unknown(f"{record} gives no CVSS vector (only {', '.join(others)})")
    return unknown(f"{record} gives no CVSS vector")


def _base_score(kind: str, vector: str) -> float:
    if kind == "CVSS_V4":
        return float(CVSS4(vector).base_score)
    if kind == "CVSS_V3":
        return float(CVSS3(vector).base_score)
    return float(CVSS2(vector.removeprefix("CVSS:2.0/")).base_score)
