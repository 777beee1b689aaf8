"""Benchmark: `sdl-tracker collect --only sast` vs plain `bandit -r . -f json` on a big real tree.

    python benchmarks/collect.py [--package django] [--version 5.1.4] [--cache DIR] [--runs R]

The source distribution of PACKAGE==VERSION is fetched from the package index with
`pip download --no-binary :all: --no-deps` (kept in --cache for the next time), unpacked into a
temporary git repository and committed. Then, in one run, best of R each:
- plain: `python -m bandit -r . -f json -o FILE` in the repository;
- first: `sdl-tracker collect --only sast` (the real CLI, as a subprocess) on a fresh ledger —
  file selection, the same bandit, parsing, the SARIF artifact, the ledger append;
- unchanged: the same command again with nothing changed, which reaffirms the last evidence.
Both sides must report the same files and findings (checked). Targets (issue 3):
first / plain <= 1.15, unchanged / plain <= 0.1. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdl_tracker import ledger
from sdl_tracker.ledger import GitStore

FIRST_TARGET = 1.15
UNCHANGED_TARGET = 0.1
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _sdist(package: str, version: str, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    found = [p for p in cache.iterdir() if p.name.lower().startswith(f"{package}-{version}.")]
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
             f"{package}=={version}", "-d", str(cache), "--quiet"],
            check=True,
        )  # fmt: skip
        found = [p for p in cache.iterdir() if p.name.lower().startswith(f"{package}-{version}.")]
    return found[0]


def _repository(sdist: Path, root: Path) -> None:
    """The sdist unpacked (without its top directory) and committed, ignored files included."""
    with tarfile.open(sdist) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root.parent / "unpacked", filter="data")
        else:  # pragma: no cover - Python < 3.10.12
            tar.extractall(root.parent / "unpacked")  # noqa: S202
    (top,) = (root.parent / "unpacked").iterdir()
    top.rename(root)
    _exclude_unparsable(root)
    env = {**os.environ, **IDENTITY}
    for args in (["init", "-q", "-b", "main"], ["add", "-A", "-f", "."], ["commit", "-qm", "src"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)


def _exclude_unparsable(root: Path) -> None:
    """Exclude the files Python cannot parse (deliberately broken test fixtures) in `.bandit`.

    A project would do the same; otherwise every run is incomplete (bandit cannot scan them)
    and incomplete evidence is never reaffirmed. Plain `bandit -r .` reads `.bandit` too.
    """
    bad = []
    for path in sorted(root.rglob("*.py")):
        try:
            ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            bad.append(f"./{path.relative_to(root).as_posix()}")
    if bad:
        if (root / ".bandit").exists():
            sys.exit(f"{root}/.bandit exists already: pick another package")
        (root / ".bandit").write_text(f"[bandit]\nexclude = {','.join(bad)}\n")
        print(f"excluded in .bandit (Python cannot parse them): {', '.join(bad)}")


def _sdl_tracker() -> list[str]:
    script = Path(sys.executable).parent / "sdl-tracker"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sdl_tracker"]


@dataclass(frozen=True)
class Timing:
    """Wall seconds and CPU seconds (user + system, the process and everything it waited for)."""

    wall: float
    cpu: float


def _timed(command: list[str], cwd: Path) -> tuple[Timing, subprocess.CompletedProcess[bytes]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu), proc


def _init(root: Path) -> None:
    subprocess.run([*_sdl_tracker(), "init", "--repo", str(root)], check=True, capture_output=True)


def _fresh_ledger(root: Path) -> None:
    ref = "refs/heads/sdl-ledger"
    subprocess.run(["git", "-C", str(root), "update-ref", "-d", ref], check=True)
    _init(root)


def _plain(root: Path, out: Path) -> Timing:
    command = [sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-q", "-o", str(out)]
    if (root / "pyproject.toml").is_file() and "[tool.bandit]" in (
        root / "pyproject.toml"
    ).read_text(errors="replace"):
        command += ["-c", "pyproject.toml"]
    seconds, proc = _timed(command, root)
    if proc.returncode not in (0, 1) or not out.is_file():
        sys.exit(f"plain bandit failed: {proc.stderr.decode()[-500:]}")
    return seconds


def _collect(root: Path) -> tuple[Timing, str]:
    command = [*_sdl_tracker(), "collect", "--only", "sast", "--repo", str(root)]
    seconds, proc = _timed(command, root)
    if proc.returncode != 0:
        sys.exit(f"sdl-tracker collect failed: {proc.stderr.decode()[-800:]}")
    lines = proc.stderr.decode().splitlines()
    return seconds, next((ln for ln in lines if ln.startswith("- ")), "?")


def _same_findings(root: Path, plain: dict[str, Any]) -> str:
    statement = list(ledger.entries(GitStore(root)))[-1].statement()
    (art,) = [a for a in statement.artifacts if a.name == "bandit.json"]
    ours = json.loads(GitStore(root).read_object(art.sha256) or b"{}")
    for key in ("results", "errors", "metrics"):
        if ours[key] != plain[key]:
            sys.exit(f"the two runs differ in `{key}`: not the same files or findings")
    files = len([n for n in plain["metrics"] if n != "_totals"])
    return f"{files} files, {len(plain['results'])} findings, {len(plain['errors'])} errors"


def _table(rows: list[tuple[str, list[Timing], float | None]]) -> int:
    """Best wall and CPU time of each row, ratios to the first row; 1 when a target is missed."""
    base_wall = min(t.wall for t in rows[0][1])
    base_cpu = min(t.cpu for t in rows[0][1])
    print(f"{'':34} {'wall s':>8} {'ratio':>7} {'cpu s':>8} {'ratio':>7}  target (wall)")
    missed = False
    for label, timings, target in rows:
        wall = min(t.wall for t in timings)
        cpu = min(t.cpu for t in timings)
        ratio = wall / base_wall
        verdict = "" if target is None else f"<= {target} {'ok' if ratio <= target else 'MISSED'}"
        missed |= verdict.endswith("MISSED")
        print(f"{label:34} {wall:8.2f} {ratio:6.3f}x {cpu:8.2f} {cpu / base_cpu:6.3f}x  {verdict}")
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="django")
    parser.add_argument("--version", default="5.1.4")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sdl-bench")
    parser.add_argument("--runs", type=int, default=1, help="best of R runs of each side")
    args = parser.parse_args()
    sdist = _sdist(args.package, args.version, args.cache)
    work = Path(tempfile.mkdtemp(prefix="sdl-bench-collect-"))
    try:
        root = work / "repo"
        _repository(sdist, root)
        py_files = sum(1 for _ in root.rglob("*.py"))
        print(f"{sdist.name}: {py_files} Python files, committed in {root}")
        _init(root)
        report = work / "plain.json"
        plain: list[Timing] = []
        first: list[Timing] = []
        for _ in range(args.runs):
            plain.append(_plain(root, report))
            _fresh_ledger(root)
            timing, line = _collect(root)
            first.append(timing)
        same = _same_findings(root, json.loads(report.read_bytes()))
        unchanged: list[Timing] = []
        for _ in range(args.runs):
            timing, again = _collect(root)
            unchanged.append(timing)
        print(f"same files and findings on both sides: {same}")
        print(f"first run: {line}")
        print(f"re-run:    {again}")
        return _table(
            [
                ("plain bandit -r . -f json", plain, None),
                ("sdl-tracker collect --only sast", first, FIRST_TARGET),
                ("  again, unchanged (reaffirmed)", unchanged, UNCHANGED_TARGET),
            ]
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
