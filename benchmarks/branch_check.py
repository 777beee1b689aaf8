"""`check_branch` (the ledger branch is never a working branch) at a base commit against the
working tree's, interleaved pairs, in one repository with two work trees.

    python benchmarks/branch_check.py                    # 20 pairs, base 5817dc8
    python benchmarks/branch_check.py --pairs 40 --base main

Each measure is 50 calls for the branch `sdl-ledger` (not checked out, not a symbolic ref: the
common case): wall milliseconds per call and the CPU of the git processes it waited for
(`getrusage(RUSAGE_CHILDREN)`). Prints median, min and max of each side.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from sdl_tracker.ledger import gitstore  # noqa: E402

Check = Callable[[Path, str], None]


def _base(commit: str, tmp: Path) -> Check:
    src = subprocess.run(
        ["git", "-C", str(HERE), "show", f"{commit}:sdl_tracker/ledger/gitstore.py"],
        capture_output=True,
        check=True,
    ).stdout
    (tmp / "base_gitstore.py").write_bytes(src)
    spec = importlib.util.spec_from_file_location("base_gitstore", tmp / "base_gitstore.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check: Check = module.check_branch
    return check


def _repo(tmp: Path) -> Path:
    root = tmp / "repo"

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    git(
        "-c",
        "user.name=a",
        "-c",
        "user.email=a@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "a",
    )
    git("worktree", "add", "-q", str(tmp / "other"), "-b", "other")
    git("branch", "sdl-ledger")
    return root


def _measure(check: Check, root: Path, calls: int = 50) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for _ in range(calls):
        check(root, "sdl-ledger")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall / calls * 1000, cpu / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--base", default="5817dc8")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    sides: dict[str, Check] = {"base": _base(args.base, tmp), "now": gitstore.check_branch}
    root = _repo(tmp)
    results: dict[str, list[tuple[float, float]]] = {"base": [], "now": []}
    for i in range(args.pairs):
        for name in ("base", "now") if i % 2 == 0 else ("now", "base"):
            results[name].append(_measure(sides[name], root))
    for name, got in results.items():
        wall = [w for w, _ in got]
        cpu = [c for _, c in got]
        print(
            f"{name}: wall ms/call median {statistics.median(wall):.2f} "
            f"(min {min(wall):.2f}, max {max(wall):.2f}); git CPU ms/call median "
            f"{statistics.median(cpu):.2f} (min {min(cpu):.2f}, max {max(cpu):.2f})"
        )
    subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
