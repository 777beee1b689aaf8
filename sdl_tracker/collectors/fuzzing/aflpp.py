"""AFL++'s `fuzzer_stats` (and AFL's): `key : value` lines the fuzzer rewrites while it runs, with
the saved crashing and hanging inputs in `crashes/` and `hangs/` beside it."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from sdl_tracker.collectors.fuzzing.run import Finding, Run, printable
from sdl_tracker.formats import bounded

# `(.*)` then strip: a lazy group before `\s*$` would be quadratic on a long line of spaces.
_LINE = re.compile(r"^([a-z_]+)[ \t]*:(.*)$", re.M)
#: More saved inputs than this are counted, not each hashed.
_MAX_FILES = 1000


def looks_like(text: str) -> bool:
    """Whether `text` is a fuzzer_stats file: it names the AFL version and the executions."""
    keys = {m[1] for m in _LINE.finditer(text)}
    return {"execs_done", "afl_version"} <= keys


def parse(text: str, where: Path | None) -> Run:
    """The run a fuzzer_stats file shows; `where` is its directory, holding crashes/ and hangs/
    (None when the report was not read from a file there)."""
    stats = {m[1]: printable(m[2]) for m in _LINE.finditer(text)}
    version = stats.get("afl_version", "")
    gaps: list[str] = []
    executions = _int(stats, "execs_done")
    seconds = _seconds(stats)
    if seconds is None:
        gaps.append("fuzzer_stats has neither run_time nor start_time and last_update")
    coverage = _int(stats, "edges_found")
    if coverage == 0:
        gaps.append(
            "edges_found is 0: the target was not instrumented (build it with afl-clang-fast "
            "or afl-cc), so AFL++ mutated blind"
        )
    findings: list[Finding] = []
    notes = []
    for kind, folder, keys in (
        ("crash", "crashes", ("saved_crashes", "unique_crashes")),
        ("hang", "hangs", ("saved_hangs", "unique_hangs")),
    ):
        count = next((n for k in keys if (n := _int(stats, k)) is not None), None)
        if count is None:
            gaps.append(f"fuzzer_stats does not say how many {folder} were saved ({keys[0]})")
            continue
        saved = _saved(where / folder, kind) if where is not None and count else []
        findings.extend(saved[:count])
        findings.extend(
            Finding(
                id=f"{kind}-unsaved-{n + 1}",
                kind=kind,
                summary=f"AFL++ counted a {kind} whose input is not in {folder}/ beside the stats",
            )
            for n in range(len(saved), count)
        )
    command = stats.get("command_line")
    if command:
        notes.append(f"command line: {command}")
    return Run(
        fuzzer="AFL++" if version.startswith("++") else "AFL",
        version=version.removeprefix("++") or "unknown",
        executions=executions,
        seconds=seconds,
        coverage=coverage,
        seed=None,
        findings=tuple(findings),
        gaps=tuple(gaps),
        notes=tuple(notes),
    )


def _int(stats: dict[str, str], key: str) -> int | None:
    value = stats.get(key, "")
    return int(value) if value.isdecimal() else None


def _seconds(stats: dict[str, str]) -> float | None:
    run_time = _int(stats, "run_time")
    if run_time is not None:
        return float(run_time)
    start, last = _int(stats, "start_time"), _int(stats, "last_update")
    return float(last - start) if start is not None and last is not None else None


def _saved(folder: Path, kind: str) -> list[Finding]:
    """The saved inputs in `folder`, named by their SHA-1 as libFuzzer names its artifacts;
    symlinks and anything but regular files are not read."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names[:_MAX_FILES]:
        path = folder / name
        if name == "README.txt" or not stat.S_ISREG(os.lstat(path).st_mode):
            continue
        data = bounded.read(path, "report", str(path))
        digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        found.append(
            Finding(
                f"{kind}-{digest}", kind, f"AFL++ saved the input {folder.name}/{printable(name)}"
            )
        )
    return found
