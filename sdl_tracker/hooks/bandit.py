"""sdl-bandit (pre-commit): bandit on the Python files being committed (SI-2).

Uses the project's bandit setup exactly as the sast collector does (`[collectors.sast]`:
`paths`, `exclude`, bandit's `-c`/`--ini` configuration, the `-b` baseline, `# nosec`) and its
pass/fail rule: a finding at or above `severity_threshold` (default HIGH) with at least
`confidence` fails. Files bandit could not parse fail too (bandit itself exits 0 on them).
The bandit installed beside sdl-tracker runs in this process (its own command line, no second
interpreter to start); a configured `bandit` executable runs as a subprocess, as in the collector.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sdl_tracker.hooks import _base

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

PROG = "sdl-bandit"
_LEVELS = ("low", "medium", "high")


def is_python(path: str) -> bool:
    """A `.py`/`.pyi` file, or a script whose `#!` line names python (pre-commit's `python`)."""
    if path.endswith((".py", ".pyi")):
        return True
    try:
        with open(path, "rb") as f:
            first = f.read(128)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first.split(b"\n", 1)[0]


def check(
    root: Path, filenames: Sequence[str], *, threshold: str | None, confidence: str | None
) -> tuple[int, list[str]]:
    """(exit code, lines): 0 clean, 1 findings or unscannable files, 2 bandit could not run."""
    from sdl_tracker import config
    from sdl_tracker.collectors.sast import bandit as sast_bandit
    from sdl_tracker.collectors.sast.bandit import Failed, SastConfig
    from sdl_tracker.formats import scanreport

    raw = config.load(root).collector("sast")
    given = {"severity_threshold": threshold, "confidence": confidence}
    cfg = SastConfig.load(raw.replaced(**{k: v for k, v in given.items() if v}), root)
    files = [f for f in filenames if _under(f, cfg.paths)]
    dropped = sast_bandit.excluded(files, cfg.exclude) | sast_bandit.excluded_by_bandit(
        root, cfg, files
    )
    files = [f for f in files if f not in dropped]
    if not files:
        return 0, []
    if sast_bandit.importable(cfg):
        outcome = sast_bandit.run_in_process(root, cfg, files)
    else:
        bandit = sast_bandit.locate(cfg)
        if bandit is None:
            return 2, [f"{PROG}: bandit is not installed: `{sast_bandit.INSTALL_HINT}`"]
        outcome = sast_bandit.run(root, bandit, cfg, files)
    if isinstance(outcome, Failed):
        return 2, [f"{PROG}: {outcome.reason}"]
    report = scanreport.parse(outcome.report, "bandit's JSON report")
    lines = [
        f"{e.path}:1: bandit could not scan it: {e.reason}" if e.path else f"{PROG}: {e.reason}"
        for e in report.errors
    ]
    failing = [
        f
        for f in report.findings
        if f.severity.rank >= cfg.severity_threshold.rank
        and f.confidence.rank >= cfg.confidence.rank
    ]
    lines.extend(
        f"{f.path}:{f.line}: {f.rule} ({f.severity.value} severity, "
        f"{f.confidence.value} confidence) {f.message}"
        for f in failing
    )
    if failing:
        lines.append(
            f"{PROG}: fix them, or suppress a reviewed one with `# nosec {failing[0].rule}` "
            f"(failing at or above {cfg.severity_threshold.value} severity with at least "
            f"{cfg.confidence.value} confidence)"
        )
    return (1 if lines else 0), lines


def _under(path: str, paths: Sequence[str]) -> bool:
    return "." in paths or any(path == p or path.startswith(p.rstrip("/") + "/") for p in paths)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("filenames", nargs="*", help="the files to scan (Python files are kept)")
    parser.add_argument(
        "--severity-threshold",
        choices=_LEVELS,
        help="fail at or above this severity (default: [collectors.sast], else high)",
    )
    parser.add_argument(
        "--confidence",
        choices=_LEVELS,
        help="only findings at least this confident fail (default: [collectors.sast], else low)",
    )
    args = parser.parse_args(argv)
    python = [f for f in args.filenames if is_python(f)]
    if not python:
        return 0

    def body() -> int:
        from sdl_tracker import output

        root = _base.repo_root()
        code, lines = check(
            root,
            _base.relative(root, python),
            threshold=args.severity_threshold,
            confidence=args.confidence,
        )
        for line in lines:
            output.out(line)
        return code

    return _base.guard(PROG, body)


if __name__ == "__main__":
    raise SystemExit(main())
