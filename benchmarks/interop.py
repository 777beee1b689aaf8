"""Benchmark: the interoperability paths against the raw work they wrap.

    python benchmarks/interop.py [--findings N] [--risks N] [--runs R]

Everything runs in one process, best of R runs each:
- SARIF: `formats.sarif.write()` of a bandit report with N findings (rule descriptors with help
  and tags, fingerprints, regions) vs `json.loads` + `json.dumps` of bandit's own JSON report
  (what any tool that only passes the report on pays);
- findings.sarif: `exporters.sarif.log()` of a source holding that report as sast evidence (it
  re-reads the stored report and withholds snippets) vs the same raw floor;
- Threagile: `formats.threatmodel.read()` of a model split over 4 files with N manually identified
  risks, wildcard and exact tracking entries vs PyYAML's `safe_load` of the same 4 files (the
  floor any reader of the YAML pays).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import yaml

from sdl_tracker.conformance.evidence import records
from sdl_tracker.conformance.model import Conformance
from sdl_tracker.exporters import sarif as findings_sarif
from sdl_tracker.exporters.source import Source
from sdl_tracker.formats import bandit, threatmodel
from sdl_tracker.formats import sarif as sarif_format
from sdl_tracker.ledger import artifact
from sdl_tracker.models import Predicate, Result, ResultStatus, Statement, Tool

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _bandit(n: int) -> bytes:
    rules = [("B602", "subprocess_popen_with_shell_equals_true", 78), ("B301", "pickle", 502)]
    results = []
    for i in range(n):
        rule, name, cwe = rules[i % len(rules)]
        line = 10 + i % 400
        results.append(
            {
                "filename": f"./pkg/module_{i % 200}.py",
                "line_number": line,
                "col_offset": 4,
                "end_col_offset": 40,
                "line_range": [line],
                "test_id": rule,
                "test_name": name,
                "issue_severity": ("HIGH", "MEDIUM", "LOW")[i % 3],
                "issue_confidence": "HIGH",
                "issue_cwe": {"id": cwe, "link": f"https://cwe.mitre.org/data/definitions/{cwe}"},
                "issue_text": f"finding {i} of {name}",
                "more_info": f"https://bandit.readthedocs.io/en/1.8.0/plugins/{rule.lower()}.html",
                "code": f"{line - 1} def f():\n{line}     return call(x, shell=True)\n",
            }
        )
    metrics = {f"./pkg/module_{i}.py": {"loc": 100} for i in range(200)}
    return json.dumps(
        {"errors": [], "metrics": {"_totals": {}, **metrics}, "results": results}
    ).encode()


def _source(report: bytes) -> Source:
    stored = artifact("bandit.json", report)
    st = Statement(
        commit="c" * 40,
        artifacts=(stored[0],),
        predicate=Predicate(
            kind="sast",
            collector="sast",
            tool=Tool("bandit", "1.8.0"),
            requirements=("SI-2",),
            result=Result(ResultStatus.FAIL, "findings"),
            recorded_by="Ada <ada@example.com>",
            recorded_at=NOW,
        ),
    )
    conf = Conformance("c" * 40, NOW, "p", "0" * 64, (), ())
    return Source(conformance=conf, records=records([st]), objects={stored[0].sha256: stored[1]})


def _threagile(root: Path, n: int) -> None:
    assets = "".join(f"  Asset {i}:\n    id: a{i}\n" for i in range(50))
    (root / "main.yaml").write_text(
        "threagile_version: 1.0.0\ntitle: Bench\nincludes: [inc/assets.yaml, inc/risks.yaml]\n"
        f"technical_assets:\n{assets}risk_tracking:\n"
        + "".join(f"  c{i}@a{i % 50}: {{status: mitigated}}\n" for i in range(0, 20))
        + "  c1@*: {status: accepted, justification: ok}\n"
    )
    (root / "inc" / "sub").mkdir(parents=True)
    (root / "inc" / "assets.yaml").write_text(
        "includes: [sub/more.yaml]\ntechnical_assets:\n  Worker:\n    id: worker\n"
    )
    (root / "inc" / "sub" / "more.yaml").write_text("data_assets:\n  D:\n    id: d\n")
    categories = []
    for c in range(20):
        risks = "".join(
            f"      Risk {c}-{r}:\n        most_relevant_technical_asset: a{r % 50}\n"
            f"        most_relevant_data_asset: d\n"
            for r in range(n // 20)
        )
        categories.append(
            f"  - id: c{c}\n    title: Category {c}\n    function: development\n"
            f"    stride: tampering\n    risks_identified:\n{risks}"
        )
    (root / "inc" / "risks.yaml").write_text("custom_risk_categories:\n" + "".join(categories))


def _best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _line(label: str, seconds: float, floor: float | None = None) -> str:
    ratio = f"  ratio {seconds / floor:5.1f}" if floor else ""
    return f"  {label:<42} {seconds * 1000:8.1f} ms{ratio}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=5000)
    parser.add_argument("--risks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    data = _bandit(args.findings)
    report = bandit.read(json.loads(data), "bench")
    source = _source(data)
    raw = _best(lambda: json.dumps(json.loads(data)), args.runs)
    write = _best(lambda: json.dumps(sarif_format.write(report)), args.runs)
    export = _best(lambda: findings_sarif.view(source), args.runs)
    print(f"SARIF, {args.findings} bandit findings:")
    print(_line("raw (json load + dump of bandit's report)", raw))
    print(_line("formats.sarif.write + dump", write, raw))
    print(_line("findings.sarif (exporters.sarif.view)", export, raw))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _threagile(root, args.risks)
        files = [root / "main.yaml", *sorted((root / "inc").rglob("*.yaml"))]
        floor = _best(lambda: [yaml.safe_load(f.read_text()) for f in files], args.runs)
        ours = _best(lambda: threatmodel.read(root / "main.yaml", "main.yaml"), args.runs)
        model, _ = threatmodel.read(root / "main.yaml", "main.yaml")
    print(f"Threagile, {len(model.threats)} risks over {len(files)} files:")
    print(_line("raw (yaml.safe_load of the 4 files)", floor))
    print(_line("threatmodel.read", ours, floor))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
