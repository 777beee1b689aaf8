"""fuzzing: a fuzzer's own report, ingested (`collect --only fuzzing --from-report FILE
--fuzz-target PATH`), as SVV-3's fuzzing evidence.

Reads libFuzzer's output (clang `-fsanitize=fuzzer`; atheris for Python) or AFL++'s
`fuzzer_stats` (with the `crashes/` and `hangs/` beside it). Judged honestly:

- a crash, leak, timeout, out-of-memory or hang the fuzzer saved is a failure, one finding per
  saved input (named `crash-<sha1>` …), until it is fixed and fuzzed again, or waived by its id;
- a run shorter than `min_seconds` or with fewer than `min_executions` executions is not
  fuzzing: incomplete, saying how much ran and what counts;
- a run that was cut short, replayed fixed inputs only, or fuzzed an uninstrumented target is
  incomplete, saying what to do;
- the target is named: the harness's source file in this repository (`--fuzz-target`), which the
  evidence covers, so it goes stale when the harness changes.

Without `--from-report` it records nothing: tests marked `@pytest.mark.fuzz` reach the same kind
through the `tests` collector.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.fuzzing import aflpp, libfuzzer
from sdl_tracker.collectors.fuzzing.run import Run
from sdl_tracker.collectors.tables import Table
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.gitdata import git
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

NAME = "fuzzing"
KIND = "fuzzing"
PROVIDES = ("SVV-3",)
MIN_SECONDS = 600
"""Ten minutes: what ClusterFuzzLite fuzzes each code change for by default."""
MIN_EXECUTIONS = 10_000
_KEYS = ("min_seconds", "min_executions")
_SHOWN = 5


def inputs(ctx: Context) -> Mapping[str, str]:
    return {}  # a report is ingested every time it is given


def collect(ctx: Context) -> Iterator[Evidence]:
    table = Table(NAME, ctx.config, _KEYS)
    minimum = (
        table.integer("min_seconds", MIN_SECONDS),
        table.integer("min_executions", MIN_EXECUTIONS),
    )
    if ctx.from_report is None:
        return
    target = _target(ctx)
    name = ctx.from_report.name
    data = bounded.read(ctx.from_report, "report", str(ctx.from_report))
    text = data.decode("utf-8", "replace")
    if aflpp.looks_like(text):
        run = aflpp.parse(text, ctx.from_report.parent)
    elif libfuzzer.looks_like(text):
        run = libfuzzer.parse(text)
    else:
        raise InputError(
            f"{ctx.from_report}: not a fuzzer report this collector reads: expected libFuzzer's "
            "or atheris's output (its `INFO: Seed:` and `#N INITED` lines, best with "
            "-print_final_stats=1) or AFL++'s fuzzer_stats file (`execs_done :`, "
            "`afl_version :`); give the fuzzer's own output, unedited"
        )
    yield _evidence(run, target, minimum, name, data)


def _target(ctx: Context) -> str:
    target = ctx.options.get("fuzz_target", "")
    if not target:
        raise InputError(
            f"--from-report {ctx.from_report}: name the fuzz target: add --fuzz-target PATH, "
            "the harness's source file in this repository (e.g. fuzz/fuzz_frames.py)"
        )
    path = Path(target).as_posix().removeprefix("./")
    if not git.tree_ids(ctx.root, ctx.commit, [path]):
        raise InputError(
            f"--fuzz-target {target}: not a file committed at HEAD ({ctx.commit[:10]}): name "
            "the harness's source file, repository-relative, and commit it"
        )
    return path


def _evidence(run: Run, target: str, minimum: tuple[int, int], name: str, data: bytes) -> Evidence:
    min_seconds, min_executions = minimum
    ran = (
        f"{_num(run.executions)} executions in "
        f"{'an unknown time' if run.seconds is None else f'{run.seconds:g} s'}"
    )
    head = f"{run.fuzzer} fuzzed {target}: {ran}, coverage {_num(run.coverage)}"
    failures = []
    if run.findings:
        ids = ", ".join(f.id for f in run.findings[:_SHOWN])
        more = f" (+{len(run.findings) - _SHOWN} more)" if len(run.findings) > _SHOWN else ""
        failures.append(
            f"{len(run.findings)} {_kinds(run)} found: {ids}{more}; each fails until fixed and "
            "fuzzed again, or waived by its id"
        )
    gaps = list(run.gaps)
    short = (run.seconds is not None and run.seconds < min_seconds) or (
        run.executions is None or run.executions < min_executions
    )
    if short and not failures:
        gaps.append(
            f"too short to count as fuzzing (at least {min_seconds} s and {min_executions} "
            "executions count: [collectors.fuzzing] min_seconds, min_executions): fuzz longer, "
            f"e.g. -max_total_time={max(min_seconds, 1)}"
        )
    status = (
        ResultStatus.FAIL if failures else ResultStatus.INCOMPLETE if gaps else ResultStatus.PASS
    )
    metrics: dict[str, float] = {"crashes": len(run.findings)}
    for key, value in (
        ("executions", run.executions),
        ("seconds", run.seconds),
        ("coverage", run.coverage),
    ):
        if value is not None:
            metrics[key] = value
    details: dict[str, JSON] = {
        "report": name,
        "fuzzer": run.fuzzer,
        "target": target,
        "seed": run.seed,
        "min_seconds": min_seconds,
        "min_executions": min_executions,
        "notes": list(run.notes),
        # Each saved input is a finding: waivable by its id, and SM-11 asks for its tracking.
        "findings": [{"id": f.id, "severity": f.kind, "summary": f.summary} for f in run.findings],
    }
    return Evidence(
        kind=KIND,
        tool=Tool(run.fuzzer, run.version),
        requirements=PROVIDES,
        result=Result(status, "; ".join([head, *failures, *gaps]), metrics),
        covers=(target,),
        artifacts=((name, data),),
        details=details,
    )


def _kinds(run: Run) -> str:
    kinds = sorted({f.kind for f in run.findings})
    return "/".join(f"{k}es" if k == "crash" else f"{k}s" for k in kinds)


def _num(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"
