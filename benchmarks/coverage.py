"""Benchmark: what checkpoint coverage adds to an evaluation's reading of the ledger.

    python benchmarks/coverage.py [--entries N] [--batch B] [--runs R]

A directory ledger of N evidence entries appended in CI batches of B, each batch closed by a
checkpoint signed with a `keygen` key that the committed roster gives the ci role, plus one
uncovered entry at the end. Measured, best of R runs, CPU seconds of this process: reading the
verified entries and turning them into records (what every evaluation did before) against the
same plus the coverage (the roster read at the commit, the checkpoint scan, the newest
checkpoint's signature, the split of the records). The ratio is printed; the figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import make_statement  # noqa: E402

from sdl_tracker import ledger  # noqa: E402
from sdl_tracker.cli.commands import keygen  # noqa: E402
from sdl_tracker.conformance import checkpoints  # noqa: E402
from sdl_tracker.conformance.assessment import counted  # noqa: E402
from sdl_tracker.conformance.evidence import records  # noqa: E402
from sdl_tracker.ledger import DirStore  # noqa: E402


def _git(root: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(root),
    }
    return subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    ).stdout


def _raw_public(private: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_public_key(
        private.with_name(private.name + ".pub").read_bytes()
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def build(tmp: Path, entries: int, batch: int) -> tuple[Path, str, DirStore]:
    repo = tmp / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    key = tmp / "ci-key"
    keygen.run(out=key)
    (repo / "sdl-roster.yaml").write_text(
        "people:\n  - name: CI\n    emails: [ci@example.com]\n"
        f'    keys: ["{_raw_public(key)}"]\n    roles: [ci]\n'
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "roster")
    commit = _git(repo, "rev-parse", "HEAD").strip()
    store = DirStore(tmp / "ledger")
    store.create()
    signer = checkpoints.Key(path=key, signer="CI <ci@example.com>")
    for start in range(0, entries, batch):
        statements = [make_statement(i) for i in range(start, min(entries, start + batch))]
        sign = signer.maker(
            collector="collect",
            who="ci",
            commit=commit,
            now=statements[0].predicate.recorded_at,
            count=len(statements),
        )
        ledger.append(store, statements, checkpoint=sign)
    ledger.append(store, [make_statement(entries)])  # appended without the key
    return repo, commit, store


def best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sdl-bench-coverage-") as tmp:
        repo, commit, store = build(Path(tmp), args.entries, args.batch)
        base = best(args.runs, lambda: records(ledger.entries(store)))
        covered = best(args.runs, lambda: counted(repo, commit, list(ledger.entries(store))))
        stored = list(ledger.entries(store))
        kept, coverage = counted(repo, commit, stored)
        assert coverage is not None and len(coverage.not_counted) == 1
    print(
        f"{len(stored)} entries ({args.entries} evidence in batches of {args.batch}, each with "
        f"its checkpoint, 1 uncovered): records {base:.3f} s, records + coverage "
        f"{covered:.3f} s CPU (best of {args.runs}); ratio {covered / base:.2f}x; "
        f"{len(kept)} records counted"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
