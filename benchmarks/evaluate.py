"""Benchmark: `evaluate()` over a large ledger vs reading the same statements back from JSON.

    python benchmarks/evaluate.py [--entries N] [--runs R] [--policy cra-2024-2847]

N statements (default 10,000) of eight kinds over four commits, as the unit tests build them
(tests/evidence_factory.py), judged by the shipped policy. The floor is what any evaluation pays
first: turning the stored JSON of those statements back into records. Best of R runs each; the
ratio evaluate / floor is printed. (This replaces a wall-clock assertion that used to sit in the
unit tests and failed whenever the machine was busy.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from evidence_factory import NOW, A, B, C, X, stmt  # noqa: E402

from sdl_tracker.conformance.evaluate import evaluate  # noqa: E402
from sdl_tracker.conformance.facts import CommitFacts  # noqa: E402
from sdl_tracker.models import Statement  # noqa: E402
from sdl_tracker.policy import load as policy_mod  # noqa: E402

KINDS = (
    "sast",
    "dependency_audit",
    "review_record",
    "document:hardening_guide",
    "training_record",
    "threat_model",
    "test_report",
    "issue_tracker_record",
)


def _best(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--policy", default=policy_mod.DEFAULT, choices=sorted(policy_mod.BUILTIN))
    args = parser.parse_args()
    statements = [
        stmt(
            KINDS[i % len(KINDS)],
            commit=(A, B, C, X)[i % 4],
            covers=("src",) if i % 3 else (),
            metrics={"high": 0, "vulnerabilities": 0, "open": 0},
            age_days=i / 1000,
        )
        for i in range(args.entries)
    ]
    stored = [json.dumps(s.to_json()) for s in statements]
    facts = CommitFacts(commit=C, ancestors=frozenset({A, B}), changed={A: ("src/app/main.py",)})
    policy = policy_mod.load(args.policy)
    floor = _best(args.runs, lambda: [Statement.from_json(json.loads(s)) for s in stored])
    judged = _best(args.runs, lambda: evaluate(policy, statements, facts, NOW))
    print(f"entries: {args.entries}, best of {args.runs}")
    print(f"floor: statements from JSON   {floor * 1000:8.1f} ms")
    print(f"evaluate ({args.policy:<20}) {judged * 1000:8.1f} ms")
    print(f"ratio evaluate / floor        {judged / floor:8.2f}")


if __name__ == "__main__":
    main()
