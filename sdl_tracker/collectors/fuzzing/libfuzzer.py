"""libFuzzer's output (clang `-fsanitize=fuzzer`, and atheris, which embeds it), as it prints it
to stderr: status lines `#N INITED cov: …`, `Done N runs in T second(s)`, the final statistics of
`-print_final_stats=1`, sanitizer and libFuzzer errors, and `Test unit written to <artifact>`.
In fork mode (`-fork=N`) the main process prints its own lines instead: `#N: cov: … exec/s …
oom/timeout/crash: O/T/C time: Ts job: J`, then `INFO: exiting: CODE time: Ts`; it goes on past
timeouts and OOMs (and crashes with -ignore_crashes=1), counting them without naming the inputs
it saves. In jobs mode (`-jobs=N`) each job writes `fuzz-N.log`, which the main process prints
after `==== Job N exited with exit code C ====` when the job ends: each job is read as a run.

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
_FORK = re.compile(r"INFO: -fork=(\d+): fuzzing in separate process")
_FORKED = re.compile(r"#(\d+): cov: (\d+) .*\boom/timeout/crash: (\d+)/(\d+)/(\d+) time: (\d+)s\b")
_EXITING = re.compile(r"INFO: exiting: (-?\d+) time: (\d+)s\s*$")
_JOB = re.compile(r"=+ Job (\d+) exited with exit code (-?\d+) =+\s*$", re.MULTILINE)
_LAUNCH = re.compile(r" >fuzz-(\d+)\.log 2>&1\s*$", re.MULTILINE)
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
    fork: str | None = None
    """`-fork=N`'s N, when the main process fuzzed in fork mode."""
    forked: tuple[int, int, int, int, int, int] | None = None
    """The last fork-mode status line: executions, cov, ooms, timeouts, crashes, seconds."""
    exiting: tuple[int, int] | None = None
    """Fork mode's `INFO: exiting: CODE time: Ts`."""
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
            self.seed = self.seed or m[1]  # fork mode: a crashed job's log repeats the seed
        elif first == "I" and (m := _FORK.match(line)):
            self.fork = m[1]
        elif first == "I" and (m := _EXITING.match(line)):
            self.exiting = (int(m[1]), int(m[2]))
        elif first == "=" and (m := _ERROR.match(line)):
            self.errors.append(printable(m[1]))
        if self.marked and "Test unit written to" in line and (m := _ARTIFACT.search(line)):
            self.artifacts.append(printable(PurePosixPath(m[1]).name))
        if self.marked and _PYTHON in line:
            self.python.append(f"uncaught Python exception: {printable(following)}")

    def _status(self, line: str) -> None:
        if self.fork is not None and (m := _FORKED.match(line)):
            self.forked = (int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]))
            return
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
    return _LAUNCH.search(text) is not None or any(
        _SEED.match(line) or _STATUS.match(line) or _STAT.match(line)
        for line in text.splitlines()
        if line[:1] in ("I", "#", "s")
    )


def parse(text: str) -> Run:
    """The run `text` (libFuzzer's whole output) shows."""
    if _LAUNCH.search(text) or _JOB.search(text):
        return _jobs(text)
    seen = _Seen(marked="Test unit written to" in text or _PYTHON in text)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        seen.line(line, lines[i + 1] if i + 1 < len(lines) else "")
    if seen.fork is not None:
        return _forked(seen, text)
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


def _forked(seen: _Seen, text: str) -> Run:
    """A fork-mode run, from the main process's lines: its executions, time and coverage, and
    every OOM, timeout and crash it counted, a finding each (named when a job's log names it)."""
    found, notes = _findings(seen)
    findings = list(found)
    ooms, timeouts, crashes = seen.forked[2:5] if seen.forked else (0, 0, 0)
    unnamed = 0
    for kind, group, total in (
        ("oom", ("oom",), ooms),
        ("timeout", ("timeout",), timeouts),
        ("crash", ("crash", "leak"), crashes),  # libFuzzer counts a leak as a crash
    ):
        more = _unnamed(findings, kind, total - sum(f.kind in group for f in findings))
        findings += more
        unnamed += len(more)
    if unnamed or any("-unsaved-" in f.id for f in findings):
        notes = [n for n in notes if not n.startswith("libFuzzer saved no input")]
        notes.append(
            "in fork mode libFuzzer saves what it finds under -artifact_prefix (crash-*, "
            "leak-*, timeout-*, oom-*) without naming it in the log: fix each, or waive it"
        )
    gaps = []
    if seen.exiting is None and not findings:
        gaps.append(
            "the log stops before libFuzzer's `INFO: exiting: CODE time: Ts` line (fork mode): "
            "the run was cut short or the log is partial; give the whole output of a finished "
            "run (`-fork=N -max_total_time=SECONDS`)"
        )
    elif seen.exiting is not None and seen.exiting[0] != 0 and not findings:
        gaps.append(
            f"libFuzzer exited with code {seen.exiting[0]} without saying what it found: give "
            "its whole output, or run it again"
        )
    # The first status line always says `cov: 0` (jobs merge their coverage when they end).
    if seen.forked is not None and seen.forked[1] == 0 and not findings:
        gaps.append(
            "fork mode's last status line reports no coverage (`cov: 0`): the target was not "
            "instrumented, so libFuzzer mutated blind; build it with -fsanitize=fuzzer"
        )
    return Run(
        fuzzer="atheris" if any(sign in text for sign in _ATHERIS) else "libFuzzer",
        version="unknown",
        executions=seen.forked[0] if seen.forked else None,
        seconds=float(seen.exiting[1]) if seen.exiting else None,
        coverage=max(seen.forked[1], seen.coverage or 0) if seen.forked else seen.coverage,
        seed=seen.seed,
        findings=tuple(findings),
        gaps=tuple(gaps),
        notes=(f"fork mode (-fork={seen.fork}): the main process's totals", *notes),
    )


def _unnamed(findings: list[Finding], kind: str, count: int) -> list[Finding]:
    """`count` findings fork mode counted but no log line names: `<kind>-unsaved-N`."""
    taken = {f.id for f in findings}
    made: list[Finding] = []
    n = 0
    while len(made) < count:
        n += 1
        if f"{kind}-unsaved-{n}" not in taken:
            made.append(Finding(f"{kind}-unsaved-{n}", kind, f"counted by fork mode: {kind}"))
    return made


def _jobs(text: str) -> Run:
    """A -jobs=N run: each job's fuzz-N.log, as the main process printed it when the job ended,
    read as a run; executions added up, the time the longest job's (they run side by side)."""
    launched = sorted({int(m[1]) for m in _LAUNCH.finditer(text)})
    heads = list(_JOB.finditer(text))
    jobs: list[tuple[int, int, Run]] = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        jobs.append((int(head[1]), int(head[2]), parse(text[head.end() : end])))
    if not jobs:
        return Run(
            fuzzer="libFuzzer",
            version="unknown",
            executions=None,
            seconds=None,
            coverage=None,
            seed=None,
            findings=(),
            gaps=(
                f"libFuzzer's -jobs output names {len(launched)} job log(s) (fuzz-N.log) but "
                "no job has finished in it: give the main process's whole output once every "
                "job has exited (it prints each job's fuzz-N.log then), or one job's fuzz-N.log",
            ),
        )
    findings: dict[str, Finding] = {}
    gaps, notes = [], [f"{len(jobs)} jobs (-jobs): executions added up, the longest job's time"]
    for n, code, run in jobs:
        for f in run.findings:
            fid = f"job{n}-{f.id}" if "-unsaved-" in f.id else f.id  # one input, found twice
            findings.setdefault(fid, Finding(fid, f.kind, f.summary))
        gaps += [f"job {n}: {gap}" for gap in run.gaps]
        notes += [f"job {n}: {note}" for note in run.notes]
        if code != 0 and not run.findings:
            gaps.append(f"job {n} exited with code {code} without saying what it found")
    missing = [n for n in launched if n not in {n for n, _, _ in jobs}]
    if missing:
        gaps.append(
            f"job(s) {', '.join(map(str, missing))} did not finish in this output (their "
            "fuzz-N.log is printed when they exit): give the whole output of a finished run"
        )
    known = [r for _, _, r in jobs]
    executions = [r.executions for r in known if r.executions is not None]
    seconds = [r.seconds for r in known if r.seconds is not None]
    coverage = [r.coverage for r in known if r.coverage is not None]
    return Run(
        fuzzer=known[0].fuzzer,
        version="unknown",
        executions=sum(executions) if executions else None,
        seconds=max(seconds) if seconds else None,
        coverage=max(coverage) if coverage else None,
        seed=known[0].seed,
        findings=tuple(findings.values()),
        gaps=tuple(gaps),
        notes=tuple(notes),
    )
