"""Organisation-scale benchmark (issue #8): 500 repositories x 200 entries on PostgreSQL.

    python benchmarks/org.py                         # 500 x 200 = 100,000 entries, fsync on
    python benchmarks/org.py --repos 100 --entries 200 --no-fsync
    python benchmarks/org.py --url postgresql://sdl@localhost/bench   # an existing database

Without --url it starts its own throw-away cluster (tests/ledger/pgcluster.py: initdb + pg_ctl in
a temporary directory) and removes it afterwards. Every chain holds what a repository's CI writes:
runs of 20 entries (18 evidence statements, a gate verdict of a commit or, every third run, of a
release, and now and then a waiver). In one run it reports

* appends per second through `sdl_tracker.ledger.append` (head, seal, one transaction per
  batch): one writer filling the first repositories, then 8 writer processes the rest;
* `org status` over every repository: in process (read + roll-up + table) and as the real CLI
  (`python -m sdl_tracker org status --format json`, interpreter start-up included), right after
  loading (no planner statistics yet) and after ANALYZE — target under 2 s;
* the query for each chain's newest issues evidence alone, with the partial index of schema
  version 4 and without it (dropped inside a transaction that is rolled back), best of 5,
  interleaved; these chains hold no issues evidence, the case where a scan without the index
  reads every entry;
* `ledger verify` on PostgreSQL against the git store on the same entries (the first
  --verify-chains chains copied onto git branches), and on every chain of the organisation;
* `org status --roster` for the first --verify-chains chains (their signatures checked against a
  roster, as `ledger verify` does) against `org status` without, and the added time against
  `ledger verify`'s own signature check (`check_all`) of the same chains, best of 3, interleaved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "ledger")]

from helpers import make_statement  # noqa: E402

from sdl_tracker import ledger  # noqa: E402
from sdl_tracker.conformance import verdicts, waivers  # noqa: E402
from sdl_tracker.ledger import GitStore, replicate  # noqa: E402
from sdl_tracker.ledger.pgstore import PgStore  # noqa: E402
from sdl_tracker.models import (  # noqa: E402
    JSON,
    Artifact,
    Predicate,
    Result,
    ResultStatus,
    Statement,
    Tool,
)
from sdl_tracker.org import pgorg  # noqa: E402
from sdl_tracker.org import render as orgrender  # noqa: E402
from sdl_tracker.org import status as org  # noqa: E402
from sdl_tracker.policy import catalog  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)
RUN = 20  # entries per CI run
_STATUSES = ("satisfied",) * 6 + ("missing", "stale", "incomplete", "waived", "partial")


def _verdict(repo: int, run: int) -> tuple[Statement, bytes]:
    """A gate verdict shaped like `verdicts.statement()` writes it, with its artifact."""
    ids = catalog.load().ids()
    statuses: dict[str, JSON] = {
        rid: _STATUSES[(repo * 7 + run * 3 + i) % len(_STATUSES)] for i, rid in enumerate(ids)
    }
    release = f"v{run // 3}.0" if run % 3 == 2 else None
    report = json.dumps({"repo": repo, "run": run, "statuses": statuses}, indent=2).encode()
    passed = all(s in ("satisfied", "waived") for s in statuses.values())
    details: dict[str, JSON] = {
        "release": release,
        "commit": hashlib.sha1(f"{repo}/{run}".encode()).hexdigest(),
        "passed": passed,
        "policy": "iec62443-4-1",
        "policy_digest": hashlib.sha256(b"policy").hexdigest(),
        "statuses": statuses,
        "ratchet": [],
        "waivers": [],
        "maturity": {p.id: (repo + run + n) % 4 for n, p in enumerate(catalog.load().practices)},
    }
    st = Statement(
        commit=str(details["commit"]),
        artifacts=(Artifact("conformance.json", hashlib.sha256(report).hexdigest()),),
        predicate=Predicate(
            kind=verdicts.KIND,
            collector=verdicts.COLLECTOR,
            tool=Tool("sdl-tracker", "0.1.0"),
            requirements=verdicts.REQUIREMENTS,
            result=Result(ResultStatus.PASS if passed else ResultStatus.FAIL, "gate", {}),
            details=details,
            recorded_by="CI <ci@example.com>",
            recorded_at=NOW - timedelta(hours=10 - run),
        ),
    )
    return st, report


Batches = list[tuple[list[Statement], dict[str, bytes]]]


def _chain(repo: int, entries: int) -> Batches:
    """One repository's statements in CI-run batches, with the artifacts each batch stores."""
    batches = []
    for run in range(entries // RUN):
        statements = [make_statement(repo * 1000 + run * RUN + i) for i in range(RUN - 2)]
        gate, report = _verdict(repo, run)
        statements.append(gate)
        if run in (0, 6):  # a waiver: about half expire within 30 days
            statements.append(
                waivers.statement(
                    target="SVV-4" if run == 0 else "B602",
                    reason="pentest booked",
                    approver="Grace Hopper <grace@example.com>",
                    requested_by="Ada Lovelace <ada@example.com>",
                    expires=NOW + timedelta(days=5 + (repo * 13 + run * 17) % 60),
                    commit=None,
                    now=NOW,
                )
            )
        else:
            statements.append(make_statement(repo * 1000 + run * RUN + RUN - 1))
        batches.append((statements, {hashlib.sha256(report).hexdigest(): report}))
    return batches


def _fill(url: str, chains: dict[int, Batches], batch: int) -> float:
    """Append every chain (made by `_chain`, so generation is not timed); seconds taken."""
    start = time.perf_counter()
    for repo, batches in chains.items():
        store = PgStore(url, f"repo-{repo:04d}")
        store.create()
        for statements, objects in batches:
            for first in range(0, len(statements), batch):
                part = statements[first : first + batch]
                named = {a.sha256 for s in part for a in s.artifacts}
                ledger.append(store, part, {k: v for k, v in objects.items() if k in named})
        store.close()
    return time.perf_counter() - start


def _worker(argv: list[str]) -> int:
    url, first, last, entries, batch, go = argv
    chains = {r: _chain(r, int(entries)) for r in range(int(first), int(last))}
    PgStore(url, "repo-0000").repositories()  # made, imported, connected: tell the parent
    Path(f"{go}.ready.{os.getpid()}").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    _fill(url, chains, int(batch))
    return 0


def _writers(url: str, repos: range, entries: int, batch: int, n: int, workdir: Path) -> float:
    go = workdir / f"go-{uuid.uuid4().hex}"
    step = -(-len(repos) // n)
    parts = [range(s, min(s + step, repos.stop)) for s in range(repos.start, repos.stop, step)]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, str(p.start), str(p.stop)]
            + [str(entries), str(batch), str(go)]
        )
        for p in parts
    ]
    while len(list(workdir.glob(f"{go.name}.ready.*"))) < len(procs):
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a writer exited before the start")
        time.sleep(0.05)
    start = time.perf_counter()
    go.touch()
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"a writer failed (exit {proc.returncode})")
    return time.perf_counter() - start


def _times(fn: Callable[[], object], runs: int) -> list[float]:
    result = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        result.append(time.perf_counter() - start)
    return result


def _in_process(url: str) -> org.OrgStatus:
    facts = pgorg.read(url)
    found = org.status(
        facts,
        ledger="bench",
        now=NOW,
        within_days=30,
        practices=tuple(p.id for p in catalog.load().practices),
    )
    orgrender.table(found)
    return found


def _cli(url: str) -> None:
    cmd = [sys.executable, "-m", "sdl_tracker", "org", "status", "--ledger", url, "--format"]
    proc = subprocess.run([*cmd, "json"], capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"org status failed: {proc.stderr.decode()}")


def _org_status(url: str, repos: int, label: str) -> None:
    found = _in_process(url)
    assert len(found.rows) == repos and all(r.verdict for r in found.rows)
    inproc, cli = _times(lambda: _in_process(url), 5), _times(lambda: _cli(url), 5)
    print(
        f"  org status, {repos} repositories ({label}): in process best "
        f"{min(inproc):.3f} s / median {statistics.median(inproc):.3f} s; CLI best "
        f"{min(cli):.3f} s / median {statistics.median(cli):.3f} s (target < 2 s); "
        f"{sum(len(r.expiring) for r in found.rows)} waivers expiring within 30 days",
        flush=True,
    )


def _issues_query(url: str, repos: int) -> None:
    """The newest-issues-evidence query with its index and without (dropped, rolled back)."""
    import psycopg

    params = {"all": True, "names": []}
    runs: dict[str, list[float]] = {"index": [], "no index": []}
    with psycopg.connect(url) as conn:
        for _ in range(5):
            for label in runs:
                with conn.transaction(force_rollback=True):
                    if label == "no index":
                        conn.execute("DROP INDEX sdl_tracker.entries_issue_records")
                    start = time.perf_counter()
                    conn.execute(pgorg._ISSUES.encode(), params).fetchall()
                    runs[label].append(time.perf_counter() - start)
    with_index, without = min(runs["index"]), min(runs["no index"])
    print(
        f"  newest issues evidence, {repos} chains: {with_index * 1000:.1f} ms with the index, "
        f"{without * 1000:.1f} ms without ({without / with_index:.0f}x)",
        flush=True,
    )


def _verify(url: str, repos: int, sample: int, workdir: Path) -> None:
    chains = [f"repo-{r:04d}" for r in range(repos)]
    gits = []
    for name in chains[:sample]:
        root = workdir / name
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        gits.append(GitStore(root))
        replicate.replicate(PgStore(url, name), gits[-1])
    pgs = [PgStore(url, name) for name in chains[:sample]]
    n = sum(ledger.verify(s).entries for s in pgs)
    t_pg = min(_times(lambda: [ledger.verify(s) for s in pgs], 3))
    t_git = min(_times(lambda: [ledger.verify(s) for s in gits], 3))
    for label, seconds in (
        (f"PostgreSQL, {sample} chains", t_pg),
        (f"git, {sample} chains", t_git),
    ):
        print(f"  verify, {label:<24} {n / seconds:>9,.0f} entries/s ({seconds * 1e6 / n:.1f} µs)")
    print(f"  verify PG/git per entry: {t_pg / t_git:.2f}x (target <= 2x)")
    for store in pgs:
        store.close()
    start = time.perf_counter()
    total = sum(_verify_one(url, name) for name in chains)
    seconds = time.perf_counter() - start
    print(
        f"  verify, PostgreSQL, all {repos} chains: {total:,} entries in {seconds:.2f} s "
        f"({total / seconds:,.0f} entries/s)",
        flush=True,
    )


def _verify_one(url: str, name: str) -> int:
    """`ledger verify` of one chain as a command does it: connect, verify, disconnect."""
    store = PgStore(url, name)
    try:
        return ledger.verify(store).entries
    finally:
        store.close()


def _signatures(url: str, repos: int, sample: int, workdir: Path) -> None:
    """The cost of `--roster` for `sample` chains: org status with and without, and the check
    `ledger verify` runs on the same chains alone."""
    from sdl_tracker.cli.commands import org as org_cmd
    from sdl_tracker.cli.commands.ledger import check_all
    from sdl_tracker.formats import roster as roster_mod

    path = workdir / "sdl-roster.yaml"
    path.write_text(
        "people:\n  - name: Bench Person\n    emails: [bench@example.com]\n    roles: [developer]\n"
    )
    roster = roster_mod.parse(path.read_text(), str(path))
    names = [f"repo-{r:04d}" for r in range(sample)]
    rosters = dict.fromkeys(names, path)

    def verify_alone() -> None:
        for name in names:
            store = PgStore(url, name)
            try:
                check_all(store, roster)
            finally:
                store.close()

    runs: dict[str, list[float]] = {"without": [], "with": [], "verify": []}
    for _ in range(3):
        runs["without"] += _times(lambda: org_cmd._build(url, (), 30, NOW), 1)
        runs["with"] += _times(lambda: org_cmd._build(url, (), 30, NOW, rosters), 1)
        runs["verify"] += _times(verify_alone, 1)
    without, with_, alone = (min(runs[k]) for k in ("without", "with", "verify"))
    print(
        f"  org status, {repos} repositories, {sample} with --roster: {with_:.3f} s against "
        f"{without:.3f} s without ({with_ / without:.2f}x); the added {with_ - without:.3f} s "
        f"against `ledger verify`'s check of those chains alone, {alone:.3f} s "
        f"({(with_ - without) / alone:.2f}x)",
        flush=True,
    )


def _run(url: str, args: argparse.Namespace, workdir: Path) -> None:
    single = range(0, max(1, args.repos // 10))
    rest = range(single.stop, args.repos)
    t1 = _fill(url, {r: _chain(r, args.entries) for r in single}, args.batch)
    n1 = len(single) * args.entries
    print(f"  append, 1 writer:  {n1:>7,} entries, {n1 / t1:>8,.0f} entries/s", flush=True)
    t8 = _writers(url, rest, args.entries, args.batch, args.writers, workdir)
    n8 = len(rest) * args.entries
    print(
        f"  append, {args.writers} writers: {n8:>7,} entries, {n8 / t8:>8,.0f} entries/s "
        f"(wall clock, {len(rest)} chains)",
        flush=True,
    )
    _org_status(url, args.repos, "no planner statistics yet")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE sdl_tracker.entries")
        conn.execute("ANALYZE sdl_tracker.heads")
    _org_status(url, args.repos, "after ANALYZE")
    _issues_query(url, args.repos)
    _verify(url, args.repos, min(args.verify_chains, args.repos), workdir)
    _signatures(url, args.repos, min(args.verify_chains, args.repos), workdir)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return _worker(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--entries", type=int, default=200, help="per repository (x20)")
    parser.add_argument("--batch", type=int, default=20, help="entries per append")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--verify-chains", type=int, default=50)
    parser.add_argument("--url", help="an existing, empty database (default: a throw-away one)")
    parser.add_argument("--no-fsync", action="store_true", help="throw-away cluster without fsync")
    args = parser.parse_args()
    cluster = None
    url = args.url
    if not url:
        import pgcluster

        cluster, url = pgcluster.bench_database(durable=not args.no_fsync)
    print(
        f"organisation ledger: {args.repos} repositories x {args.entries} entries = "
        f"{args.repos * args.entries:,}, {args.batch} per append, fsync "
        f"{'off' if args.no_fsync else 'on' if cluster else 'as configured'}",
        flush=True,
    )
    try:
        PgStore(url, "repo-0000").create()  # the schema, before the writers start
        with tempfile.TemporaryDirectory() as tmp:
            _run(url, args, Path(tmp))
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
