"""What verifying before believing costs: `status` on a large ledger with and without the check.

    python benchmarks/trust.py                    # 100,000 entries, git and directory stores
    python benchmarks/trust.py --entries 20000 --store dir
    python benchmarks/trust.py --read --repeat 15   # the directory store's check alone

One `status` per process, for a tool that times whole processes side by side (`hyperfine`, or
`/usr/bin/time -v` in a loop), on ledgers built once (a directory ledger, a git branch, and with
`--store pg` a chain in a throw-away PostgreSQL cluster left running until `--stop`):

    python benchmarks/trust.py --keep /tmp/trust-bench             # git and dir (if not there)
    python benchmarks/trust.py --keep /tmp/trust-bench --store pg  # starts a cluster
    python benchmarks/trust.py --store git --once checked --at /tmp/trust-bench
    python benchmarks/trust.py --store git --once unchecked --at /tmp/trust-bench
    python benchmarks/trust.py --stop /tmp/trust-bench             # the cluster

or let this script do it: `--store S --pairs N --at DIR` runs N interleaved pairs of such
processes (the order alternating from pair to pair) and prints each pair's ratio of CPU seconds
(the process and the git processes it waited for; on PostgreSQL also the server processes that
served it) and their minimum, median and maximum. `--append` runs, before each timed process,
one that appends an entry as another process would (this machine's memo left where it was: as
the unchecked processes do not move it either, each checked process finds one entry appended
since its last check, or three when its pair ran the unchecked process first); without it, the
steady state. `--first` times the first check (the memo removed first) against unchecked.
`--store S --alone N --at DIR` times the check by itself, in process: N rounds of the steady
state, after another writer's append of one entry, and the full check.

Without `--at`, for git and dir, it appends N realistic statements (one SAST result each, every
tenth with an artifact) to a fresh ledger of a fresh repository, then runs `sdl-tracker status`
in process:

* first     - the first check on this machine: no memo yet, every artifact read (the full check);
* checked   - the steady state: the memo is there and names the store's current mark, so
              the entries are parsed, not hashed again;
* appended  - one entry appended since the last check (`record`, what a CI run does);
* unchecked - the same `status` reading the entries without any check (the path before).

Each is the best of `--repeat` runs, in CPU seconds (this process and the git processes it
waited for); `checked/unchecked` is the price of the check (target <= 1.10).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests" / "ledger"))  # pgcluster

from ledger import statement  # noqa: E402  (benchmarks/ledger.py)

from sdl_tracker import ledger as ledger_mod  # noqa: E402
from sdl_tracker.cli.main import main  # noqa: E402
from sdl_tracker.ledger import trust  # noqa: E402
from sdl_tracker.ledger.store import Store  # noqa: E402
from sdl_tracker.workspace import open_workspace  # noqa: E402

TARGET = 1.10
BATCH = 10_000


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        c, w = cpu(), time.perf_counter()
        fn()
        best_cpu, best_wall = min(best_cpu, cpu() - c), min(best_wall, time.perf_counter() - w)
    return best_cpu, best_wall


def status(root: Path, extra: list[str]) -> None:
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
        code = main(["status", "-C", str(root), *extra])
    if code not in (0, 1):
        raise SystemExit(f"status failed ({code}): {sink.getvalue()[-2000:]}")


def build(root: Path, extra: list[str], entries: int) -> Store:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for key, value in (("user.name", "Bench"), ("user.email", "bench@example.com")):
        subprocess.run(["git", "-C", str(root), "config", key, value], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["init", "-C", str(root), *extra]) == 0
    store = open_store(root, extra)
    for start in range(0, entries, BATCH):
        batch, objects = [], {}
        for i in range(start, min(start + BATCH, entries)):
            st = statement(i)
            if i % 10 == 0:
                art, data = ledger_mod.artifact("report.json", f'{{"run": {i}}}'.encode())
                objects[art.sha256] = data
                st = st.__class__(commit=st.commit, artifacts=(art,), predicate=st.predicate)
            batch.append(st)
        ledger_mod.append(store, batch, objects)
    return store


def bench(kind: str, entries: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="sdl-trust-") as tmp:
        root = Path(tmp) / "repo"
        extra = ["--ledger-dir", str(Path(tmp) / "ledger")] if kind == "dir" else []
        store = build(root, extra, entries)
        path = trust.memo_path(store)
        assert path is not None
        figures: dict[str, float] = {}

        def first() -> None:
            path.unlink(missing_ok=True)
            status(root, extra)

        figures["first"], _ = timed(first, 1)
        report = Path(tmp) / "r.txt"
        report.write_text("x\n")

        def another_process_appends() -> None:
            memo = path.read_bytes()
            with contextlib.redirect_stderr(io.StringIO()):
                main(["record", "training_record", str(report), "-C", str(root), *extra])
            # As another process's append leaves it: the memo still at the previous head.
            path.write_bytes(memo)

        real = ledger_mod.entries

        def unchecked() -> None:
            ledger_mod.entries = ledger_mod.unverified_entries  # type: ignore[assignment]
            try:
                status(root, extra)
            finally:
                ledger_mod.entries = real  # type: ignore[assignment]

        # Interleaved, so that the neighbours' load falls on every variant alike.
        runs: dict[str, list[float]] = {"checked": [], "appended": [], "unchecked": []}
        for _ in range(repeat):
            runs["checked"].append(timed(lambda: status(root, extra), 1)[0])
            another_process_appends()  # not timed: only the `status` after it is
            runs["appended"].append(timed(lambda: status(root, extra), 1)[0])
            runs["unchecked"].append(timed(unchecked, 1)[0])
        figures.update((name, min(values)) for name, values in runs.items())
        return figures


def read_bench(entries: int, repeat: int) -> None:
    """`--read`: the directory store's check alone, without the rest of `status`: reading every
    entry after another process appended one (memo at the previous head), checked versus
    unchecked, CPU seconds of this process, best of R, interleaved."""
    from helpers import make_statement

    from sdl_tracker.ledger import chain
    from sdl_tracker.ledger.dirstore import DirStore

    with tempfile.TemporaryDirectory(prefix="sdl-trust-") as tmp:
        store = DirStore(Path(tmp) / "ledger")
        store.create()
        for start in range(0, entries, BATCH):
            ledger_mod.append(store, [statement(i) for i in range(start, start + BATCH)])
        list(ledger_mod.entries(store))  # the first check
        runs: dict[str, list[float]] = {"appended": [], "unchecked": []}
        for r in range(repeat):
            head = store.head()
            sealed = chain.seal(head, [make_statement(r)])
            DirStore(store.path).append(sealed, {}, expected=head)  # another process
            own = resource.getrusage(resource.RUSAGE_SELF)
            assert sum(1 for _ in ledger_mod.entries(store)) == entries + r + 1
            mid = resource.getrusage(resource.RUSAGE_SELF)
            assert sum(1 for _ in ledger_mod.unverified_entries(store)) == entries + r + 1
            end = resource.getrusage(resource.RUSAGE_SELF)
            runs["appended"].append(mid.ru_utime + mid.ru_stime - own.ru_utime - own.ru_stime)
            runs["unchecked"].append(end.ru_utime + end.ru_stime - mid.ru_utime - mid.ru_stime)
        a, u = min(runs["appended"]), min(runs["unchecked"])
        print(f"dir read after an append: checked {a:.3f} s, unchecked {u:.3f} s, {a / u:.3f}x")


STORES = ("git", "dir", "pg")
PG_CHAIN = "bench"


def _pg(at: Path) -> dict[str, Any]:
    """The throw-away cluster `--keep DIR --store pg` started (DIR/pg.json)."""
    found: dict[str, Any] = json.loads((at / "pg.json").read_text())
    return found


def where(kind: str, at: Path) -> tuple[Path, list[str]]:
    """The repository and the `status` options of the `kind` ledger that `--keep` built at `at`."""
    if kind == "dir":
        return at / "repo", ["--ledger-dir", str(at / "ledger")]
    if kind == "git":
        return at / "git", []
    return at / "pg", ["--ledger", _pg(at)["url"], "--repo-name", PG_CHAIN]


def open_store(root: Path, extra: list[str]) -> Store:
    options = dict(zip(extra[::2], extra[1::2]))
    ledger_dir = options.get("--ledger-dir")
    return open_workspace(
        root,
        ledger_dir=Path(ledger_dir) if ledger_dir else None,
        ledger_url=options.get("--ledger"),
        repo_name=options.get("--repo-name"),
    ).store()


def keep(at: Path, entries: int, kinds: Sequence[str]) -> None:
    """`--keep`: ledgers of `entries` entries at `at`, built once, each checked once (the memo):
    a repository with a directory ledger (repo/, ledger/), a repository with its branch (git/),
    and for `pg` a throw-away PostgreSQL cluster left running (fsync on; pg.json says where;
    `--stop DIR` stops it and removes it) holding the chain of repository pg/."""
    at.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        if kind == "pg" and not (at / "pg.json").exists():
            import pgcluster

            cluster, url = pgcluster.bench_database(durable=True)
            fields = {"url": url, "base": str(cluster.base), "bindir": str(cluster.bindir)}
            fields.update(port=cluster.port, as_user=list(cluster.as_user))
            (at / "pg.json").write_text(json.dumps(fields))
        root, extra = where(kind, at)
        if root.exists():
            print(f"{at}: {kind} already built")
            continue
        build(root, extra, entries)
        status(root, extra)  # the first check: the memo
        print(f"{at}: {kind} built, {entries} entries", flush=True)


def stop(at: Path) -> None:
    """`--stop`: stop and remove the PostgreSQL cluster `--keep` started."""
    import pgcluster

    found = _pg(at)
    pgcluster.Cluster(
        base=Path(found["base"]),
        bindir=Path(found["bindir"]),
        port=found["port"],
        as_user=tuple(found["as_user"]),
    ).stop()
    (at / "pg.json").unlink()
    print(f"{at}: PostgreSQL cluster stopped and removed")


def once(variant: str, kind: str, at: Path) -> None:
    """`--once`: one `status` of this process: `checked`, `unchecked`, or `first` (the memo
    removed first: the full check); or `append`: one entry appended as another process would
    (neither checking nor moving this machine's memo), no `status`."""
    from helpers import make_statement

    from sdl_tracker.ledger import chain

    root, extra = where(kind, at)
    if variant == "append":
        store = open_store(root, extra)
        head = store.head()
        sealed = chain.seal(head, [make_statement(head.seq if head else 0)])
        store.append(sealed, {}, expected=head)
        return
    if variant == "first":
        path = trust.memo_path(open_store(root, extra))
        assert path is not None
        path.unlink(missing_ok=True)
    if variant == "unchecked":
        ledger_mod.entries = ledger_mod.unverified_entries  # type: ignore[assignment]
    status(root, extra)


def _server(at: Path) -> dict[int, float]:
    """CPU seconds of the cluster's postmaster (its own and its waited-for children's) and of
    each process it started that is still running, by process id, from /proc."""
    data = Path(_pg(at)["base"]) / "data"
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        if pid == postmaster or int(fields[1]) == postmaster:
            # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from the state (3)
            found[pid] = sum(int(v) for v in fields[11:15]) / tick
    return found


def server_cpu(at: Path, running: set[int]) -> float:
    """The cluster's CPU seconds so far, once no backend but those in `running` is left (the
    postmaster has waited for the others: their time is in its children's)."""
    for _ in range(500):
        found = _server(at)
        if set(found) <= running:
            return sum(found.values())
        time.sleep(0.01)
    raise SystemExit(f"PostgreSQL backends still running: {sorted(set(found) - running)}")


def pairs(kind: str, at: Path, count: int, append: bool, first: bool) -> None:
    """`--pairs N`: N interleaved pairs of whole `--once` processes, checked (or, with `first`,
    the full check) against unchecked, CPU seconds of each process and the git processes it
    waited for, plus on PostgreSQL the server's processes; the order alternates from pair to
    pair so that a trend in the load falls on both alike. With `append`, each timed process
    follows an untimed one that appends an entry as another process would."""
    import statistics

    here = [sys.executable, __file__, "--store", kind, "--at", str(at), "--once"]
    running = set(_server(at)) if kind == "pg" else set()

    def one(variant: str) -> tuple[float, float]:
        if append:
            subprocess.run([*here, "append"], check=True)
        server = server_cpu(at, running) if kind == "pg" else 0.0
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([*here, variant], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server = server_cpu(at, running) - server if kind == "pg" else 0.0
        own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return own + server, server

    checked = "first" if first else "checked"
    mode = "the first check" if first else "after an append" if append else "steady state"
    print(f"{kind}: {count} pairs at {at}, {mode}", flush=True)
    ratios, loads, sides = [], [], {checked: [], "unchecked": []}
    for n in range(count):
        order = (checked, "unchecked") if n % 2 == 0 else ("unchecked", checked)
        cpu_s = {variant: one(variant) for variant in order}
        for variant, (total, _) in cpu_s.items():
            sides[variant].append(total)
        ratios.append(cpu_s[checked][0] / cpu_s["unchecked"][0])
        loads.append(os.getloadavg()[0])
        server = (
            f" (server {cpu_s[checked][1]:.2f} / {cpu_s['unchecked'][1]:.2f} s)"
            if kind == "pg"
            else ""
        )
        print(
            f"pair {n + 1}: {checked} {cpu_s[checked][0]:.2f} s, unchecked "
            f"{cpu_s['unchecked'][0]:.2f} s{server}, {ratios[-1]:.3f}; load {loads[-1]:.1f}",
            flush=True,
        )
    median = statistics.median(ratios)
    verdict = "ok" if median <= TARGET else f"over {TARGET}"
    slower = sum(r > 1 for r in ratios)
    print(
        f"{kind}, {mode}: {checked}/unchecked over {count} pairs: min {min(ratios):.3f}, median "
        f"{median:.3f}, max {max(ratios):.3f} (target {TARGET}: {verdict}, "
        f"{sum(r > TARGET for r in ratios)} pairs over it; {checked} the slower in {slower}); "
        f"medians {checked} {statistics.median(sides[checked]):.2f} s, unchecked "
        f"{statistics.median(sides['unchecked']):.2f} s; load {min(loads):.1f}-{max(loads):.1f}"
    )


def alone(kind: str, at: Path, rounds: int) -> None:
    """`--alone N`: the check by itself (`trust.check` in this process, no `status` around it),
    N rounds of three: the steady state, after another writer appended one entry, and the full
    check (the memo removed first); CPU seconds of this process and, on PostgreSQL, of the
    server's processes (each round's connections closed before the server is read)."""
    import statistics

    from helpers import make_statement

    from sdl_tracker.ledger import chain

    root, extra = where(kind, at)
    running = set(_server(at)) if kind == "pg" else set()
    found: dict[str, list[tuple[float, float]]] = {"steady": [], "appended": [], "full": []}

    def measure(variant: str) -> None:
        store = open_store(root, extra)
        if variant == "appended":
            head = store.head()
            store.append(
                chain.seal(head, [make_statement(head.seq if head else 0)]), {}, expected=head
            )
        if variant == "full":
            path = trust.memo_path(store)
            assert path is not None
            path.unlink(missing_ok=True)
        close = getattr(store, "close", None)
        if close is not None:
            close()
        server = server_cpu(at, running) if kind == "pg" else 0.0
        c = cpu()
        trust.check(store)
        if close is not None:
            close()
        own = cpu() - c
        server = server_cpu(at, running) - server if kind == "pg" else 0.0
        found[variant].append((own + server, server))

    print(f"{kind}: the check alone, {rounds} rounds at {at}", flush=True)
    measure("steady")  # a memo naming the current state to start from
    found["steady"].clear()
    for n in range(rounds):
        for variant in ("steady", "appended", "full"):
            measure(variant)
        print(
            f"round {n + 1}: "
            + ", ".join(
                f"{v} {found[v][-1][0]:.3f} s (server {found[v][-1][1]:.3f})" for v in found
            )
            + f"; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    for variant, got in found.items():
        totals, servers = [t for t, _ in got], [sv for _, sv in got]
        print(
            f"{kind}, {variant}: min {min(totals):.3f} s, "
            f"median {statistics.median(totals):.3f} s, "
            f"max {max(totals):.3f} s (server median {statistics.median(servers):.3f} s)"
        )


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--store", choices=(*STORES, "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--read", action="store_true", help="only the directory store's check after an append"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build ledgers to time once")
    parser.add_argument("--stop", type=Path, metavar="DIR", help="stop --keep's PostgreSQL")
    parser.add_argument(
        "--once", choices=("checked", "unchecked", "first", "append"), help="one status, then exit"
    )
    parser.add_argument("--at", type=Path, metavar="DIR", help="what --keep built")
    parser.add_argument("--append", action="store_true", help="with --pairs: append one first")
    parser.add_argument("--first", action="store_true", help="with --pairs: the full check")
    parser.add_argument(
        "--alone", type=int, metavar="N", help="with --at: N rounds of the check by itself"
    )
    parser.add_argument(
        "--pairs", type=int, metavar="N", help="with --at: N interleaved pairs of --once processes"
    )
    args = parser.parse_args()
    kinds = ("git", "dir") if args.store == "both" else (args.store,)
    at = args.keep or args.at or args.stop
    if at is not None:
        # The memos of directory and PostgreSQL stores beside the ledgers, not in ~/.cache.
        os.environ["XDG_CACHE_HOME"] = str(at.resolve() / "cache")
    if args.keep:
        keep(args.keep, args.entries, kinds)
        return
    if args.stop:
        stop(args.stop)
        return
    if args.alone:
        if len(kinds) != 1 or args.at is None:
            parser.error("--alone needs --at DIR and --store git, dir or pg")
        alone(kinds[0], args.at, args.alone)
        return
    if args.pairs or args.once:
        if len(kinds) != 1 or args.at is None:
            parser.error("--pairs and --once need --at DIR and --store git, dir or pg")
        if args.pairs:
            pairs(kinds[0], args.at, args.pairs, args.append, args.first)
        else:
            once(args.once, kinds[0], args.at)
        return
    if args.read:
        read_bench(args.entries, args.repeat)
        return
    print(f"{args.entries} entries, best of {args.repeat}, CPU s; load {os.getloadavg()[0]:.1f}")
    print("store  first  checked  appended  unchecked  checked/unchecked  appended/unchecked")
    for kind in kinds:
        if kind == "pg":
            parser.error("the in-process figures cover git and dir; for pg use --keep/--pairs")
        f = bench(kind, args.entries, args.repeat)
        ratio, ratio2 = f["checked"] / f["unchecked"], f["appended"] / f["unchecked"]
        verdict = "ok" if max(ratio, ratio2) <= TARGET else f"over {TARGET}"
        print(
            f"{kind:<5} {f['first']:6.2f} {f['checked']:8.2f} {f['appended']:9.2f} "
            f"{f['unchecked']:10.2f} {ratio:18.3f} {ratio2:19.3f}  {verdict}"
        )


if __name__ == "__main__":
    main_()
