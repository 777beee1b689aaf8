"""tests: verification results from JUnit XML, and their traceability (SVV-1, SVV-2, SUM-1).

Reads JUnit XML from any runner (configured paths, or `--from-report junit.xml`), the security
requirements file, the threat models and the security-issue records, and yields:

- `test_report`: pass/fail/skip/error per test, per requirement and per threat id; `fail` when a
  test failed or errored, `incomplete` when a report is missing or holds no test case;
- `fuzzing` and `dynamic_analysis` (SVV-3), when tests are marked `fuzz` or
  `resource_exhaustion`: `pass` when one ran and passed and none failed;
- `traceability_matrix`: threat -> mitigation -> requirement -> test -> result, and each
  security issue fixed in the release -> test -> result; `fail` when a requirement has no test,
  a test names an unknown requirement, threat or issue, a test a mitigation names did not run,
  or a linked test failed; `incomplete` without reports or requirements file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdl_tracker import __version__
from sdl_tracker import config as config_mod
from sdl_tracker.collectors import threat_model
from sdl_tracker.collectors.base import Context, Evidence
from sdl_tracker.collectors.tests import fixes, matrix
from sdl_tracker.collectors.tests.evidence import (
    MARKED,
    marked_evidence,
    report_evidence,
    trace_evidence,
)
from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded, junit, threatmodel
from sdl_tracker.formats.threatmodel import requirements as secreqs
from sdl_tracker.models import Tool

NAME = "tests"
PROVIDES = ("SVV-1", "SVV-2", "SVV-3", "SUM-1")
DEFAULT_JUNIT = ("junit.xml", "reports/junit.xml", "test-results/junit.xml", "reports/junit/*.xml")
_TOOL = Tool(name="sdl-tracker tests", version=__version__)
_KEYS = ("junit", "requirements", "threat_models", "max_age_hours")


@dataclass(frozen=True)
class Settings:
    junit: tuple[str, ...]
    junit_configured: bool
    requirements: str
    threat_models: tuple[str, ...]


def settings(ctx: Context) -> Settings:
    """`[collectors.tests]`; requirements and models default to the threat-model settings."""
    where = f"[collectors.{NAME}]"
    conf = ctx.config
    unknown = sorted(set(conf) - set(_KEYS))
    if unknown:
        raise config_mod.unknown_key(ctx.root, f"collectors.{NAME}", unknown[0], _KEYS)
    for key in ("junit", "threat_models"):
        if key in conf and not _paths(conf[key]):
            raise config_mod.error(
                conf,
                key,
                f"{where} {key}: expected a list of repository-relative paths or globs, "
                f"got {conf[key]!r}",
            )
    if "requirements" in conf and not _paths([conf["requirements"]]):
        raise config_mod.error(
            conf,
            "requirements",
            f"{where} requirements: expected a repository-relative file path, "
            f"got {conf['requirements']!r}",
        )
    tm = threat_model.settings(config_mod.load(ctx.root).collector(threat_model.NAME))
    return Settings(
        junit=tuple(conf.get("junit", DEFAULT_JUNIT)),
        junit_configured="junit" in conf,
        requirements=conf.get("requirements", tm.requirements),
        threat_models=tuple(conf.get("threat_models", tm.paths)),
    )


def _paths(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, str) and p and not p.startswith("/") and ".." not in Path(p).parts
        for p in value
    )


def _reports(ctx: Context, s: Settings) -> tuple[list[tuple[Path, str]], list[str]]:
    """(report files with their display names, configured patterns that matched nothing)."""
    if ctx.from_report is not None:
        path = ctx.from_report
        return [(path, path.name if not _inside(ctx.root, path) else _rel(ctx.root, path))], []
    found, unmatched = threatmodel.discover(ctx.root, s.junit)
    if not s.junit_configured and found:
        unmatched = []
    return [(ctx.root / p, p) for p in found], unmatched


def inputs(ctx: Context) -> Mapping[str, str]:
    s = settings(ctx)
    reports, _ = _reports(ctx, s)
    models, _ = threatmodel.discover(ctx.root, s.threat_models)
    files = [*(name for _, name in reports), s.requirements, *models]
    return {
        **{
            f"sha256:{name}": hashlib.sha256((ctx.root / name).read_bytes()).hexdigest()
            for name in files
            if (ctx.root / name).is_file()
        },
        **fixes.inputs(ctx),
    }


def collect(ctx: Context) -> Iterator[Evidence]:
    s = settings(ctx)
    reports, missing = _reports(ctx, s)
    raws = [(name, _read(path, name)) for path, name in reports]
    ours = [name for name, raw in raws if junit.written_by_sdl_tracker(raw)]
    if ctx.from_report is not None and ours:
        raise InputError(
            f"{ours[0]}: this is sdl-tracker's own gate report (`gate --junit`), not the "
            "product's test results: give the JUnit XML your test runner wrote"
        )
    raws = [(name, raw) for name, raw in raws if name not in ours]
    if ours and not raws:
        missing = [p for p in s.junit if p not in ours] or list(s.junit)
    cases = tuple(case for name, raw in raws for case in junit.parse(name, raw))
    requirements = secreqs.read(ctx.root, s.requirements)
    model_paths, _ = threatmodel.discover(ctx.root, s.threat_models)
    models = [threatmodel.read(ctx.root / p, p)[0] for p in model_paths]
    released = fixes.read(ctx)
    # Without a requirements file every requirement a test names is unknown.
    built = matrix.build(cases, requirements or (), models, released.fixes, released.known)
    expected = missing if raws else list(s.junit)
    yield report_evidence(_TOOL, PROVIDES, cases, raws, expected, built, ignored=ours)
    yield trace_evidence(
        _TOOL,
        ("SVV-1", "SVV-2", "SUM-1"),
        cases,
        built,
        requirements_file=s.requirements if requirements is not None else None,
        wanted_requirements=s.requirements,
        models=[m.path for m in models],
        no_reports=not raws,
        release=released,
        artifact=json.dumps(
            {
                **built.to_json(),
                "release": {"tag": released.tag, "previous": released.previous},
                "tests": [_case_json(c) for c in cases],
            },
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
        + b"\n",
    )
    for kind in MARKED:
        marked = marked_evidence(_TOOL, kind, cases)
        if marked is not None:
            yield marked


def _case_json(case: junit.TestCase) -> dict[str, Any]:
    return {
        "test": case.id,
        "result": case.outcome.value,
        "at": f"{case.report}:{case.line}",
        "requirements": list(case.requirements),
        "threats": list(case.threats),
        "fixes": list(case.fixes),
        "fuzz": list(case.fuzz),
        "resource_exhaustion": list(case.exhaustion),
    }


def _read(path: Path, name: str) -> bytes:
    return bounded.read(path, "junit", name)


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _rel(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()
