"""Benchmark: the bounded readers against the plain parsers they replace, on realistic inputs.

    python benchmarks/bounded.py [--runs R] [--results N]

In one run, best of R each (ms):
- the shipped policy (YAML with line numbers): `bounded.yaml_compose` vs the plain
  `yaml.compose(..., Loader=yaml.SafeLoader)` the policy reader used before;
- the same policy as values: `bounded.yaml_load` vs `yaml.safe_load`;
- a SARIF log with N results, as bandit/semgrep write it: `bounded.json_loads` (size check,
  parse, iterative depth walk) vs `json.loads`;
- the same log as CycloneDX-like nesting (components within components, depth 8).
A last row compares with `json.loads` run without the cyclic garbage collector too (the
bounded reader pauses it while it parses and walks: JSON makes no cycles), to show the walk's
own cost (no target). Both sides must produce the same value (checked). Targets: bounded /
plain <= 3.5 for JSON; for YAML the bounded reader composes with libyaml after a libyaml pass
that measures the document, so it must not be slower than the plain pure-Python compose
(<= 1.0). Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sdl_tracker.formats import bounded

ROOT = Path(__file__).resolve().parents[1]
JSON_TARGET = 3.5
YAML_TARGET = 1.0


def best(call: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def sarif(results: int) -> bytes:
    def result(i: int) -> dict[str, Any]:
        return {
            "ruleId": f"B{600 + i % 50}",
            "level": "warning",
            "message": {"text": f"Possible issue number {i} found by the scanner"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"src/pkg/module_{i % 300}.py"},
                        "region": {"startLine": i % 900 + 1, "startColumn": 5, "endLine": 9},
                    }
                }
            ],
            "properties": {"issue_confidence": "HIGH", "issue_severity": "MEDIUM"},
        }

    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "bandit", "rules": []}},
                "results": [result(i) for i in range(results)],
            }
        ],
    }
    return json.dumps(log, indent=2).encode()


def nested_sbom(width: int) -> bytes:
    def component(level: int, i: int) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "library", "name": f"c{level}-{i}", "version": "1.0"}
        if level < 7:
            node["components"] = [component(level + 1, j) for j in range(width if level < 3 else 1)]
        return node

    return json.dumps({"bomFormat": "CycloneDX", "components": [component(0, 0)]}).encode()


def _without_gc(call: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        gc.disable()
        try:
            return call()
        finally:
            gc.enable()

    return run


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--results", type=int, default=20_000)
    args = parser.parse_args()
    policy = (ROOT / "policies" / "iec62443-4-1.yaml").read_text(encoding="utf-8")
    log, sbom = sarif(args.results), nested_sbom(12)
    assert bounded.json_loads(log, "log.sarif", "report") == json.loads(log)
    assert bounded.yaml_load(policy, "policy.yaml", "policy") == yaml.safe_load(policy)
    rows: list[tuple[str, int, float, float, float | None]] = [
        (
            "policy as nodes (yaml_compose vs yaml.compose SafeLoader)",
            len(policy),
            best(lambda: bounded.yaml_compose(policy, "p.yaml", "policy"), args.runs),
            best(lambda: yaml.compose(policy, Loader=yaml.SafeLoader), args.runs),
            YAML_TARGET,
        ),
        (
            "policy as values (yaml_load vs yaml.safe_load)",
            len(policy),
            best(lambda: bounded.yaml_load(policy, "p.yaml", "policy"), args.runs),
            best(lambda: yaml.safe_load(policy), args.runs),
            YAML_TARGET,
        ),
        (
            f"SARIF, {args.results} results (json_loads vs json.loads)",
            len(log),
            best(lambda: bounded.json_loads(log, "log.sarif", "report"), args.runs),
            best(lambda: json.loads(log), args.runs),
            JSON_TARGET,
        ),
        (
            "nested SBOM components (json_loads vs json.loads)",
            len(sbom),
            best(lambda: bounded.json_loads(sbom, "bom.json", "sbom"), args.runs),
            best(lambda: json.loads(sbom), args.runs),
            JSON_TARGET,
        ),
    ]
    rows.append(
        (
            "SARIF, both without the cyclic GC (the walk's own cost)",
            len(log),
            best(lambda: bounded.json_loads(log, "log.sarif", "report"), args.runs),
            best(_without_gc(lambda: json.loads(log)), args.runs),
            None,
        )
    )
    missed = False
    print(f"{'input':62} {'bytes':>9} {'bounded':>9} {'plain':>9} {'ratio':>6} target")
    for name, size, ours, plain, target in rows:
        ratio = ours / plain
        missed |= target is not None and ratio > target
        goal = f"<= {target}" if target is not None else "(shown)"
        print(f"{name:62} {size:>9} {ours:>9.1f} {plain:>9.1f} {ratio:>6.2f} {goal}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
