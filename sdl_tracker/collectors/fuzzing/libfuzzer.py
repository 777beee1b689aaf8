"""libFuzzer's output (clang `-fsanitize=fuzzer`, and atheris, which embeds it), as it prints it
to stderr: status lines `#N INITED cov: …`, `Done N runs in T second(s)`, the final statistics of
`-print_final_stats=1`, sanitizer and libFuzzer errors, and `Test unit written to <artifact>`.

Read in one pass over the lines (a long campaign's log can be large), each line tested by its
first characters before any pattern runs on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sdl_tracker.collectors.fuzzing.run import Finding, Run, printable

_SEED = re.compile(r"INFO: Seed: (\d+)\s*$")
_EVENTS = ("INITED", "NEW", "REDUCE", "pulse", "DONE", "RELOAD")
_STATUS = re.compile(r"#(\d+)[ \t]+(INITED|NEW|REDUCE|pulse|DONE|RELOAD)\b(.*)$")
_COV = re.compile(r"\bcov: (\d+)")
_DONE = re.compile(r"Done (\d+) runs in (\d+) second\(s\)\s*$")
_STAT = re.compile(r"stat::(\w+):[ \t]+(\d+)\s*$")
_ARTIFACT = re.compile(r"Test unit written to (\S+)\s*$")
_ERROR = re.compile(r"==\d+== ?ERROR: (.+)$")
_PYTHON = "=== Uncaught Python exception: ==="
_REPLAY = "NOTE: fuzzing was not performed"
_ATHERIS = ("INFO: Using built-in libfuzzer", _PYTHON, "INFO: Instrumenting ")
#: Artifact name prefixes libFuzzer writes, and what they mean (`slow-unit-` is not a failure).
_KINDS = {"crash": "crash", "leak": "leak", "timeout": "timeout", "oom": "oom"}


@dataclass
class _Seen:
    """What the lines showed so far (filled in one pass, then turned into a `Run`)."""

    seed: str | None = None
    statuses: int = 0
    most: int | None = None
    covered: str = ""
    done: tuple[int, float] | None = None
    stats: dict[str, int] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    python: list[str] = field(default_factory=list)
    marked: bool = False
    """Whether the text holds an artifact line or a Python exception at all (rare: most lines
    need not be searched for them)."""

    def line(self, line: str, following: str) -> None:
        first = line[:1]
        if first == "#":
            self._status(line)
        elif first == "s" and (m := _STAT.match(line)):
            self.stats[m[1]] = int(m[2])
        elif first == "D" and (m := _DONE.match(line)):
            self.done = (int(m[1]), float(m[2]))
        elif first == "I" and (m := _SEED.match(line)):
            self.seed = m[1]
        elif first == "=" and (m := _ERROR.match(line)):
            self.errors.append(printable(m[1]))
        if self.marked and "Test unit written to" in line and (m := _ARTIFACT.search(line)):
            self.artifacts.append(printable(PurePosixPath(m[1]).name))
        if self.marked and _PYTHON in line:
            self.python.append(f"uncaught Python exception: {printable(following)}")

    def _status(self, line: str) -> None:
        parts = line.split(None, 2)  # cheaper than a pattern: a long run prints many of these
        if len(parts) < 2 or not parts[0][1:].isdecimal() or parts[1] not in _EVENTS:
            return
        self.statuses += 1
        self.most = max(self.most or 0, int(parts[0][1:]))
        if "cov: " in line:
            self.covered = line

    @property
    def coverage(self) -> int | None:
        """The `cov:` of the last status line that reports one."""
        cov = _COV.search(self.covered)
        return int(cov[1]) if cov else None


def looks_like(text: str) -> bool:
    """Whether `text` is libFuzzer's output: its seed line, a status line or its final stats."""
    return any(
        _SEED.match(line) or _STATUS.match(line) or _STAT.match(line)
        for line in text.splitlines()
        if line[:1] in ("I", "#", "s")
    )


def parse(text: str) -> Run:
    """The run `text` (libFuzzer's whole output) shows."""
    seen = _Seen(marked="Test unit written to" in text or _PYTHON in text)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        seen.line(line, lines[i + 1] if i + 1 < len(lines) else "")
    executions = seen.stats.get("number_of_executed_units")
    if executions is None and seen.done:
        executions = seen.done[0]
    if executions is None:
        executions = seen.most
    findings, notes = _findings(seen)
    gaps = []
    if _REPLAY in text:
        gaps.append(
            "libFuzzer only ran the target on the inputs it was given (it says: fuzzing was "
            "not performed): run it on a corpus directory, e.g. `-max_total_time=600 corpus/`"
        )
    elif seen.statuses and seen.coverage is None:
        gaps.append(
            "no status line reports coverage (`cov:`): the target was not instrumented, so "
            "libFuzzer mutated blind; build it with -fsanitize=fuzzer (C/C++) or instrument the "
            "Python code (atheris.instrument_imports() or @atheris.instrument_func)"
        )
    if seen.done is None and not findings and not gaps:
        gaps.append(
            "the log stops before libFuzzer's `Done N runs in T second(s)` line: the run was "
            "cut short or the log is partial; give the whole output of a finished run "
            "(`-max_total_time=SECONDS`)"
        )
    return Run(
        fuzzer="atheris" if any(sign in text for sign in _ATHERIS) else "libFuzzer",
        version="unknown",  # libFuzzer prints no version
        executions=executions,
        seconds=seen.done[1] if seen.done else None,
        coverage=seen.coverage,
        seed=seen.seed,
        findings=findings,
        gaps=tuple(gaps),
        notes=tuple(notes),
    )


def _findings(seen: _Seen) -> tuple[tuple[Finding, ...], list[str]]:
    """The crashes (leaks, timeouts, …) libFuzzer reported, each named by its saved artifact."""
    errors = seen.errors + seen.python
    found: list[Finding] = []
    notes: list[str] = []
    for name in seen.artifacts:
        if name.startswith("slow-unit-"):
            notes.append(f"libFuzzer saved a slow input: {name}")
            continue
        kind = _KINDS.get(name.split("-", 1)[0], "crash")
        found.append(Finding(id=name, kind=kind, summary=_why(errors, len(found), kind)))
    if errors and not found:
        found = [
            Finding(id=f"{_kind(e)}-unsaved-{n + 1}", kind=_kind(e), summary=e)
            for n, e in enumerate(errors)
        ]
        notes.append("libFuzzer saved no input for what it found (no `Test unit written to`)")
    return tuple(found), notes


def _why(errors: list[str], index: int, kind: str) -> str:
    if not errors:
        return kind
    python = [e for e in errors if e.startswith("uncaught Python")]
    chosen = python or errors
    return chosen[min(index, len(chosen) - 1)]


def _kind(error: str) -> str:
    if "timeout" in error:
        return "timeout"
    if "out-of-memory" in error:
        return "oom"
    return "leak" if "LeakSanitizer" in error else "crash"
