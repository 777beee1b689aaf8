"""Benchmark: what tracing security fixes (SUM-1) adds to `sdl-tracker collect --only tests`.

    python benchmarks/tests_fixes.py [--issues N] [--tests T] [--runs R]

Builds a temporary git repository with two release tags, N security-issue records (half fixed in
the release) and a JUnit report of T test cases, a tenth of them marked `fixes`. In one run,
interleaved, best of R each, the real CLI as a subprocess:
- without records: `collect --only tests --from-report junit.xml --force` in a copy of the
  repository without `security-issues/` (the path before fixes were traced);
- with records: the same command with the N records to read and trace.
Prints both times and the ratio (with / without).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
CLI = [sys.executable, "-m", "sdl_tracker"]


def _git(root: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, **IDENTITY}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)


def _junit(tests: int) -> str:
    cases = []
    for i in range(tests):
        props = f'<properties><property name="fixes" value="SEC-{i}"/></properties>'
        cases.append(
            f'<testcase classname="tests.test_x" name="test_{i}">'
            f"{props if i % 10 == 0 else ''}</testcase>"
        )
    return f'<testsuite name="s" tests="{tests}">{"".join(cases)}</testsuite>\n'


def _repository(root: Path, issues: int) -> None:
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    subprocess.run([*CLI, "init", "-C", str(root)], check=True, capture_output=True)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init", when="2026-01-10T12:00:00Z")
    _git(root, "tag", "v1.0")
    if issues:
        folder = root / "security-issues"
        folder.mkdir()
        for i in range(issues):
            tag = "v1.1" if i % 2 == 0 else "v1.0"
            (folder / f"SEC-{i}.yaml").write_text(
                f"id: SEC-{i}\ntitle: issue {i}\nreceived: 2026-01-01\nfixed: 2026-01-05\n"
                f"status: fixed\nfixed_in: {tag}\n"
                "assessment: {cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'}\n"
            )
    (root / "src.py").write_text("x = 1\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "release", when="2026-02-10T12:00:00Z")
    _git(root, "tag", "v1.1")


def _time(root: Path, report: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*CLI, "collect", "--only", "tests", "--from-report", str(report), "--force"]
        + ["-C", str(root)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        report = base / "junit.xml"
        report.write_text(_junit(args.tests))
        without, with_ = base / "without", base / "with"
        _repository(without, 0)
        _repository(with_, args.issues)
        times: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(args.runs):
            times["without"].append(_time(without, report))
            times["with"].append(_time(with_, report))
        best = {k: min(v) for k, v in times.items()}
    print(f"{args.issues} issue records, {args.tests} test cases, best of {args.runs}:")
    print(f"  collect --only tests without records: {best['without']:.3f} s")
    print(f"  collect --only tests with records:    {best['with']:.3f} s")
    print(f"  ratio with / without: {best['with'] / best['without']:.3f}x")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
