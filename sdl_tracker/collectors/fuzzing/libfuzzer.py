"""libFuzzer's output (clang `-fsanitize=fuzzer`, and atheris, which embeds it), as it prints it
to stderr: status lines `#N INITED cov: …`, `Done N runs in T second(s)`, the final statistics of
`-print_final_stats=1`, sanitizer and libFuzzer errors, and `Test unit written to <artifact>`."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from sdl_tracker.collectors.fuzzing.run import Finding, Run, printable

_SEED = re.compile(r"^INFO: Seed: (\d+)\s*$", re.M)
_STATUS = re.compile(r"^#(\d+)[ \t]+(INITED|NEW|REDUCE|pulse|DONE|RELOAD)\b(.*)$", re.M)
_COV = re.compile(r"\bcov: (\d+)")
_DONE = re.compile(r"^Done (\d+) runs in (\d+) second\(s\)\s*$", re.M)
_STAT = re.compile(r"^stat::(\w+):[ \t]+(\d+)\s*$", re.M)
_ARTIFACT = re.compile(r"Test unit written to (\S+)\s*$", re.M)
_ERROR = re.compile(r"^==\d+== ?ERROR: (.+)$", re.M)
_PYTHON = re.compile(r"^ === Uncaught Python exception: ===\n(.+)$", re.M)
_REPLAY = "NOTE: fuzzing was not performed"
_ATHERIS = (
    "INFO: Using built-in libfuzzer",
    "=== Uncaught Python exception",
    "INFO: Instrumenting ",
)
#: Artifact name prefixes libFuzzer writes, and what they mean (`slow-unit-` is not a failure).
_KINDS = {"crash": "crash", "leak": "leak", "timeout": "timeout", "oom": "oom"}


def looks_like(text: str) -> bool:
    """Whether `text` is libFuzzer's output: its seed line, a status line or its final stats."""
    return bool(_SEED.search(text) or _STATUS.search(text) or _STAT.search(text))


def parse(text: str) -> Run:
    """The run `text` (libFuzzer's whole stderr) shows."""
    atheris = any(sign in text for sign in _ATHERIS)
    stats = {m[1]: int(m[2]) for m in _STAT.finditer(text)}
    statuses = list(_STATUS.finditer(text))
    done = _DONE.search(text)
    executions = stats.get("number_of_executed_units")
    if executions is None and done:
        executions = int(done[1])
    if executions is None and statuses:
        executions = max(int(m[1]) for m in statuses)
    covs = [int(c[1]) for m in statuses if (c := _COV.search(m[3]))]
    findings, notes = _findings(text)
    gaps = []
    if _REPLAY in text:
        gaps.append(
            "libFuzzer only ran the target on the inputs it was given (it says: fuzzing was "
            "not performed): run it on a corpus directory, e.g. `-max_total_time=600 corpus/`"
        )
    elif statuses and not covs:
        gaps.append(
            "no status line reports coverage (`cov:`): the target was not instrumented, so "
            "libFuzzer mutated blind; build it with -fsanitize=fuzzer (C/C++) or instrument the "
            "Python code (atheris.instrument_imports() or @atheris.instrument_func)"
        )
    if done is None and not findings and not gaps:
        gaps.append(
            "the log stops before libFuzzer's `Done N runs in T second(s)` line: the run was "
            "cut short or the log is partial; give the whole output of a finished run "
            "(`-max_total_time=SECONDS`)"
        )
    seed = _SEED.search(text)
    return Run(
        fuzzer="atheris" if atheris else "libFuzzer",
        version="unknown",  # libFuzzer prints no version
        executions=executions,
        seconds=float(done[2]) if done else None,
        coverage=covs[-1] if covs else None,
        seed=seed[1] if seed else None,
        findings=findings,
        gaps=tuple(gaps),
        notes=tuple(notes),
    )


def _findings(text: str) -> tuple[tuple[Finding, ...], list[str]]:
    """The crashes (leaks, timeouts, …) libFuzzer reported, each named by its saved artifact."""
    errors = [printable(m[1]) for m in _ERROR.finditer(text)] + [
        f"uncaught Python exception: {printable(m[1])}" for m in _PYTHON.finditer(text)
    ]
    found: list[Finding] = []
    notes: list[str] = []
    for m in _ARTIFACT.finditer(text):
        name = printable(PurePosixPath(m[1]).name)
        prefix = name.split("-", 1)[0]
        if name.startswith("slow-unit-"):
            notes.append(f"libFuzzer saved a slow input: {name}")
            continue
        kind = _KINDS.get(prefix, "crash")
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
    return (python or errors)[min(index, len(python or errors) - 1)]


def _kind(error: str) -> str:
    if "timeout" in error:
        return "timeout"
    if "out-of-memory" in error:
        return "oom"
    return "leak" if "LeakSanitizer" in error else "crash"
