"""What `record` costs in memory: peak RSS recording a 1 MiB and a 100 MiB file.

    python benchmarks/record_memory.py                  # git and directory stores
    python benchmarks/record_memory.py --store dir --big 50
    python benchmarks/record_memory.py --pg auto        # PostgreSQL too (a throw-away cluster)
    python benchmarks/record_memory.py --pg postgresql://...   # or an existing database

Each run is a fresh `sdl-tracker record` process under `/usr/bin/time -v` (its maximum resident
set size covers sdl-tracker and the largest git process it waited for). The file holds random
bytes, so neither git nor the file system can shrink it. `big/small` is the growth of the peak
from the small file to the big one (1.0 = constant memory; the old path, which held the file's
bytes in memory several times over, peaked at 331 MB for 100 MiB).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]


def make_file(path: Path, size: int) -> None:
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
        f.write(os.urandom(size % MiB))


def repo(where: Path, store: str, pg: str | None) -> list[str]:
    """A fresh repository with a ledger; the options that select its store."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    subprocess.run(["git", "init", "-q", str(where)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(where), "commit", "-q", "--allow-empty", "-m", "x"], check=True, env=env
    )
    extra = {
        "git": [],
        "dir": ["--ledger-dir", str(where.parent / f"ledger-{where.name}")],
        "pg": ["--ledger", pg or "", "--repo-name", where.name],
    }[store]
    subprocess.run(
        ["sdl-tracker", "init", "-C", str(where), *extra], check=True, env=env, capture_output=True
    )
    return extra


def peak(root: Path, file: Path, extra: list[str]) -> tuple[int, float]:
    """(max RSS in KiB, wall seconds) of one `sdl-tracker record`."""
    argv = ["sdl-tracker", "record", "pentest_report", str(file), "-r", "SVV-4", "-C", str(root)]
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *argv, *extra], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"record failed: {proc.stderr}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert found, proc.stderr
    return int(found.group(1)), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("git", "dir", "both"), default="both")
    parser.add_argument("--big", type=int, default=100, help="MiB of the big file (default 100)")
    parser.add_argument("--pg", help="a PostgreSQL URL, or `auto`: measure that store too")
    args = parser.parse_args()
    if not shutil.which("sdl-tracker") or not Path("/usr/bin/time").exists():
        sys.exit("needs sdl-tracker on PATH and /usr/bin/time (apt install time)")
    stores = ["git", "dir"] if args.store == "both" else [args.store]
    cluster = None
    if args.pg:
        stores.append("pg")
    if args.pg == "auto":
        sys.path[:0] = [str(ROOT / "tests" / "ledger")]
        import pgcluster

        cluster, args.pg = pgcluster.bench_database(durable=True)
    try:
        measure(stores, args.big, args.pg)
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


def measure(stores: list[str], size: int, pg: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.bin", Path(tmp) / "big.bin"
        make_file(small, MiB)
        make_file(big, size * MiB)
        print(f"{'store':6} {'1 MiB':>10} {f'{size} MiB':>10} {'big/small':>10} {'time':>8}")
        for store in stores:
            root = Path(tmp) / f"repo-{store}"
            extra = repo(root, store, pg)
            rss_small, _ = peak(root, small, extra)
            rss_big, wall = peak(root, big, extra)
            print(
                f"{store:6} {rss_small / 1024:8.1f}MB {rss_big / 1024:8.1f}MB "
                f"{rss_big / rss_small:9.2f}x {wall:7.2f}s",
                flush=True,
            )


if __name__ == "__main__":
    raise SystemExit(main())
