"""What verifying before believing costs: `status` on a large ledger with and without the check.

    python benchmarks/trust.py                    # 100,000 entries, git and directory stores
    python benchmarks/trust.py --entries 20000 --store dir
    python benchmarks/trust.py --read --repeat 15   # the directory store's check alone

One `status` per process, for a tool that times whole processes side by side (`hyperfine`, or
`/usr/bin/time -v` in a loop), on a repository and directory ledger built once:

    python benchmarks/trust.py --keep /tmp/trust-bench           # build it (if not there yet)
    python benchmarks/trust.py --once checked --at /tmp/trust-bench --append
    python benchmarks/trust.py --once unchecked --at /tmp/trust-bench --append

or let this script do it: `--pairs N --at DIR` runs N interleaved pairs of such processes (the
order alternating within each pair) and prints each pair's ratio of CPU seconds (the process
and the git processes it waited for) and their minimum, median and maximum.

`--append` first appends one entry as another process would (this machine's memo left at the
previous head), on both sides alike; without it, the steady state.

For each store it appends N realistic statements (one SAST result each, every tenth with an
artifact) to a fresh ledger of a fresh repository, then runs `sdl-tracker status` in process:

* first     - the first check on this machine: no memo yet, every artifact read (the full check);
* checked   - the steady state: the memo is there, every entry's hash is recomputed while it is
              read, no artifact is read again;
* appended  - one entry appended since the last check (`record`, what a CI run does);
* unchecked - the same `status` reading the entries without any check (the path before).

Each is the best of `--repeat` runs, in CPU seconds (this process and the git processes it
waited for); `checked/unchecked` is the price of the check (target <= 1.10).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))

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
    ws = open_workspace(root, ledger_dir=Path(extra[1]) if extra else None)
    store = ws.store()
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


def keep(at: Path, entries: int) -> None:
    """`--keep`: a repository and a directory ledger of `entries` entries at `at`, built once."""
    if (at / "ledger" / "HEAD").exists():
        print(f"{at}: already built")
        return
    at.mkdir(parents=True, exist_ok=True)
    build(at / "repo", ["--ledger-dir", str(at / "ledger")], entries)
    status(at / "repo", ["--ledger-dir", str(at / "ledger")])  # the first check: the memo
    print(f"{at}: built, {entries} entries")


def once(variant: str, at: Path, append: bool) -> None:
    """`--once`: one `status` of this process, checked or unchecked; with `append`, after one
    entry appended as another process would (neither checking nor moving this machine's memo)."""
    from helpers import make_statement

    from sdl_tracker.ledger import chain
    from sdl_tracker.ledger.dirstore import DirStore

    extra = ["--ledger-dir", str(at / "ledger")]
    if append:
        store = DirStore(at / "ledger")
        head = store.head()
        sealed = chain.seal(head, [make_statement(head.seq if head else 0)])
        store.append(sealed, {}, expected=head)
    if variant == "unchecked":
        ledger_mod.entries = ledger_mod.unverified_entries  # type: ignore[assignment]
    status(at / "repo", extra)


def pairs(at: Path, count: int, append: bool) -> None:
    """`--pairs N`: N interleaved pairs of whole `--once` processes, checked against unchecked;
    the order alternates from pair to pair so that a trend in the load falls on both alike."""
    import statistics

    def one(variant: str) -> float:
        argv = [sys.executable, __file__, "--once", variant, "--at", str(at)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([*argv, *(["--append"] if append else [])], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    ratios = []
    print(f"{count} pairs at {at}, {'after an append' if append else 'steady state'}")
    for n in range(count):
        order = ("checked", "unchecked") if n % 2 == 0 else ("unchecked", "checked")
        cpu_s = {variant: one(variant) for variant in order}
        ratios.append(cpu_s["checked"] / cpu_s["unchecked"])
        print(
            f"pair {n + 1}: checked {cpu_s['checked']:.2f} s, unchecked "
            f"{cpu_s['unchecked']:.2f} s, {ratios[-1]:.3f}; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    verdict = "ok" if statistics.median(ratios) <= TARGET else f"over {TARGET}"
    print(
        f"checked/unchecked over {count} pairs: min {min(ratios):.3f}, median "
        f"{statistics.median(ratios):.3f}, max {max(ratios):.3f} (target {TARGET}: {verdict}, "
        f"{sum(r > TARGET for r in ratios)} pairs over it)"
    )


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--store", choices=("git", "dir", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--read", action="store_true", help="only the directory store's check after an append"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build a ledger to time once")
    parser.add_argument("--once", choices=("checked", "unchecked"), help="one status, then exit")
    parser.add_argument("--at", type=Path, metavar="DIR", help="with --once: what --keep built")
    parser.add_argument("--append", action="store_true", help="with --once: append one first")
    parser.add_argument(
        "--pairs", type=int, metavar="N", help="with --at: N interleaved pairs of --once processes"
    )
    args = parser.parse_args()
    if args.keep:
        keep(args.keep, args.entries)
        return
    if args.pairs:
        pairs(args.at, args.pairs, args.append)
        return
    if args.once:
        once(args.once, args.at, args.append)
        return
    if args.read:
        read_bench(args.entries, args.repeat)
        return
    print(f"{args.entries} entries, best of {args.repeat}, CPU s; load {os.getloadavg()[0]:.1f}")
    print("store  first  checked  appended  unchecked  checked/unchecked  appended/unchecked")
    for kind in ("git", "dir") if args.store == "both" else (args.store,):
        f = bench(kind, args.entries, args.repeat)
        ratio, ratio2 = f["checked"] / f["unchecked"], f["appended"] / f["unchecked"]
        verdict = "ok" if max(ratio, ratio2) <= TARGET else f"over {TARGET}"
        print(
            f"{kind:<5} {f['first']:6.2f} {f['checked']:8.2f} {f['appended']:9.2f} "
            f"{f['unchecked']:10.2f} {ratio:18.3f} {ratio2:19.3f}  {verdict}"
        )


if __name__ == "__main__":
    main_()
