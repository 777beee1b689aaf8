"""What one fuzzer run showed, read from its own output: the record both parsers make."""

from __future__ import annotations

from dataclasses import dataclass

#: Longest text taken from a report into a summary or id.
_LONGEST = 300


def printable(text: str) -> str:
    """`text` from a report, stripped, without control characters (a log line could carry
    terminal escapes), at most a few hundred characters."""
    kept = "".join(c if c.isprintable() else "?" for c in text.strip())
    return kept if len(kept) <= _LONGEST else kept[: _LONGEST - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One crash, leak, timeout, out-of-memory or hang the fuzzer saved."""

    id: str
    """`crash-<sha1>`, `leak-<sha1>`, …: the fuzzer's artifact name (libFuzzer names it by the
    SHA-1 of the input; for AFL++ we hash the saved input the same way), or `<kind>-unsaved-N`."""
    kind: str
    """crash, leak, timeout, oom or hang."""
    summary: str


@dataclass(frozen=True)
class Run:
    """A fuzzer run as its report shows it; None where the report does not say."""

    fuzzer: str
    version: str
    executions: int | None
    seconds: float | None
    coverage: int | None
    """libFuzzer's last `cov:` (edges and counters hit); AFL++'s `edges_found`."""
    seed: str | None
    findings: tuple[Finding, ...]
    gaps: tuple[str, ...] = ()
    """Why the report does not show a finished, instrumented fuzzing run."""
    notes: tuple[str, ...] = ()
