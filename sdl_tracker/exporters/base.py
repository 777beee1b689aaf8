"""The exporter interface: a module with NAME and `render(report) -> str`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sdl_tracker.conformance.model import Conformance


@dataclass(frozen=True)
class Report:
    """What a report is made from: the verdicts, and the gate's decision when a gate made it."""

    conformance: Conformance
    passed: bool | None = None
    """The gate's verdict (ratchet included); None for a plain status report."""
    regressions: tuple[tuple[str, str], ...] = ()
    """`--ratchet`: (requirement id, what got worse since the baseline release)."""
    baseline: str | None = None
    """The release the ratchet compared with."""

    @property
    def verdict(self) -> bool:
        return self.conformance.passed if self.passed is None else self.passed


class Exporter(Protocol):
    """What every exporter module provides."""

    @property
    def NAME(self) -> str: ...

    def render(self, report: Report) -> str:
        """The report as text (XML, Markdown, …)."""
        ...
