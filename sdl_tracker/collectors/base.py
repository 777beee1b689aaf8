"""The collector interface: a module with NAME, PROVIDES, inputs() and collect().

A collector runs a tool or reads a report and yields `Evidence`; it never prints and never
decides whether a requirement is met. `cli/commands/collect.py` turns evidence into ledger
statements (adding the commit, who and when) and stores the artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sdl_tracker.models import JSON, Result, Tool


@dataclass(frozen=True)
class Context:
    """What a collector may look at."""

    root: Path
    """The repository's work tree root."""
    commit: str
    """The commit being evaluated (HEAD)."""
    config: Mapping[str, Any]
    """This collector's section, `[tool.sdl-tracker.collectors.<name>]` (raw TOML, validate it)."""
    now: datetime
    from_report: Path | None = None
    """`--from-report FILE`: ingest this report instead of running the tool."""
    options: Mapping[str, str] = field(default_factory=dict)
    """Command-line options meant for collectors (e.g. `osv_url`, `osv_db`, `since`)."""


@dataclass(frozen=True)
class Evidence:
    """What a collector found; becomes one ledger statement."""

    kind: str
    tool: Tool
    requirements: tuple[str, ...]
    result: Result
    covers: tuple[str, ...] = ()
    inputs: Mapping[str, str] = field(default_factory=dict)
    artifacts: tuple[tuple[str, bytes], ...] = ()
    """(name, bytes) of each raw report to store, e.g. `("bandit.json", b"...")`."""
    details: Mapping[str, JSON] = field(default_factory=dict)


class Collector(Protocol):
    """What every collector module provides."""

    @property
    def NAME(self) -> str: ...

    @property
    def PROVIDES(self) -> tuple[str, ...]:
        """Requirement ids this collector supplies evidence for in the default mapping."""
        ...

    def inputs(self, ctx: Context) -> Mapping[str, str]:
        """Digests of everything the collector would read (git tree ids, file digests).

        When they equal the inputs of the last evidence it recorded, `collect` reaffirms that
        evidence instead of running the tool again. Return {} to always run.
        """
        ...

    def collect(self, ctx: Context) -> Iterator[Evidence]:
        """Run the tool or read the report; raise CollectorError (InputError) on bad input."""
        ...
