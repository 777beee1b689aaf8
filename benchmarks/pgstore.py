"""PostgreSQL ledger benchmark: appends (1 writer, 8 writers) and verify against the git store.

    python benchmarks/pgstore.py                      # 100,000 entries, a throw-away local cluster
    python benchmarks/pgstore.py --entries 20000 --batch 10
    python benchmarks/pgstore.py --url postgresql://sdl@localhost/bench   # an existing database

Without --url it starts its own cluster (tests/ledger/pgcluster.py: initdb + pg_ctl in a temp
directory, fsync on unless --no-fsync) and removes it afterwards. Appends go through
`sdl_tracker.ledger.append` (head, seal, one transaction per batch), as `sdl-tracker` does.
Verify hashes the stored bytes of the same N entries on PostgreSQL and on a git branch.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "ledger")]

from helpers import make_statement  # noqa: E402

from sdl_tracker import ledger  # noqa: E402
from sdl_tracker.ledger import GitStore  # noqa: E402
from sdl_tracker.ledger.pgstore import PgStore  # noqa: E402
from sdl_tracker.models import Statement  # noqa: E402


def _append(url: str, repo: str, statements: list[Statement], batch: int) -> float:
    """Append `statements` in batches of `batch`; seconds taken."""
    store = PgStore(url, repo)
    start = time.perf_counter()
    for first in range(0, len(statements), batch):
        ledger.append(store, statements[first : first + batch])
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed


def _statements(count: int, offset: int = 0) -> list[Statement]:
    return [make_statement(offset + i) for i in range(count)]


def _worker(argv: list[str]) -> int:
    url, repo, count, batch, offset, go = argv
    statements = _statements(int(count), int(offset))
    PgStore(url, repo).head()  # connected and ready: tell the parent
    Path(f"{go}.ready.{os.getpid()}").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    _append(url, repo, statements, int(batch))
    return 0


def _writers(url: str, repos: list[str], total: int, batch: int, workdir: Path) -> float:
    """8 processes appending `total` entries between them; wall-clock seconds from the start."""
    go = workdir / f"go-{uuid.uuid4().hex}"
    per = total // len(repos)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                url,
                repo,
                str(per),
                str(batch),
                str(w * per),
                str(go),
            ]
        )
        for w, repo in enumerate(repos)
    ]
    while len(list(workdir.glob(f"{go.name}.ready.*"))) < len(procs):  # all imported and waiting
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a writer exited before the start")
        time.sleep(0.05)
    start = time.perf_counter()
    go.touch()
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"a writer failed (exit {proc.returncode})")
    return time.perf_counter() - start


def _best(fn: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def _git_copy(url: str, repo: str, workdir: Path) -> GitStore:
    root = workdir / "git"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    store = GitStore(root)
    store.create()
    entries = list(ledger.entries(PgStore(url, repo)))
    for first in range(0, len(entries), 5000):
        chunk = entries[first : first + 5000]
        store.append(chunk, {}, expected=store.head())
    return store


def _floor(store: PgStore) -> float:
    raws = [e.raw for e in ledger.entries(store)]

    def chained() -> None:
        prev = b""
        for raw in raws:
            prev = hashlib.sha256(prev + raw).digest()

    return _best(chained)


def _line(label: str, n: int, seconds: float) -> None:
    print(f"  {label:<30} {n / seconds:>10,.0f} entries/s  ({seconds * 1e6 / n:6.2f} µs/entry)")


def _run(url: str, n: int, batch: int, writers: int, workdir: Path) -> None:
    run = uuid.uuid4().hex[:6]
    single, shared = f"single-{run}", f"shared-{run}"
    spread = [f"w{w}-{run}" for w in range(writers)]
    for repo in (single, shared, *spread):
        PgStore(url, repo).create()
    n8 = n // writers * writers
    t1 = _append(url, single, _statements(n), batch)
    _line("append, 1 writer", n, t1)
    t8 = _writers(url, spread, n8, batch, workdir)
    _line(f"append, {writers} writers/{writers} chains", n8, t8)
    t8s = _writers(url, [shared] * writers, n8, batch, workdir)
    _line(f"append, {writers} writers/1 chain", n8, t8s)
    assert ledger.verify(PgStore(url, shared)).entries == n8
    assert all(ledger.verify(PgStore(url, r)).entries == n8 // writers for r in spread)

    pg = PgStore(url, single)
    gitstore = _git_copy(url, single, workdir)
    assert gitstore.head() == pg.head()
    v_pg = _best(lambda: ledger.verify(pg))
    v_git = _best(lambda: ledger.verify(gitstore))
    _line("verify, PostgreSQL", n, v_pg)
    _line("verify, git branch", n, v_git)
    _line("hashing floor", n, _floor(pg))
    print(
        f"  ratios: verify PG/git per entry {v_pg / v_git:.2f}x (target <= 2x); appends "
        f"{writers} writers/{writers} chains vs 1 writer {t1 / t8 * n8 / n:.2f}x; "
        f"{writers} writers/1 chain vs 1 writer {t1 / t8s * n8 / n:.2f}x"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return _worker(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="entries per append (transaction)")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--url", help="an existing database (default: a throw-away cluster)")
    parser.add_argument("--no-fsync", action="store_true", help="throw-away cluster without fsync")
    args = parser.parse_args()
    cluster = None
    url = args.url
    if not url:
        import pgcluster

        cluster, url = pgcluster.bench_database(durable=not args.no_fsync)
    fsync = "off" if args.no_fsync else "on" if cluster else "as configured"
    print(
        f"PostgreSQL ledger: {args.entries:,} entries, {args.batch} per append, fsync {fsync}",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _run(url, args.entries, args.batch, args.writers, Path(tmp))
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
