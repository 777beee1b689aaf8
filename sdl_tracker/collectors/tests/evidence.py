"""The evidence records of the `tests` collector: the test report, the matrix, and the fuzz and
resource-exhaustion tests (`fuzzing`, `dynamic_analysis`)."""

from __future__ import annotations

from collections.abc import Sequence

from sdl_tracker.collectors.base import Evidence
from sdl_tracker.collectors.tests.fixes import Released
from sdl_tracker.collectors.tests.matrix import Matrix
from sdl_tracker.formats.junit import Outcome, TestCase
from sdl_tracker.models import JSON, Result, ResultStatus, Tool

_BAD = (Outcome.FAILED, Outcome.ERROR)
_LIST_LIMIT = 50


def metrics(cases: Sequence[TestCase], built: Matrix) -> dict[str, int]:
    """The counts both records carry (failed = failures + errors)."""
    untested = len(built.untested())
    return {
        "tests": len(cases),
        "failed": sum(c.outcome in _BAD for c in cases),
        "skipped": sum(c.outcome is Outcome.SKIPPED for c in cases),
        "requirements": len(built.requirements),
        "requirements_tested": len(built.requirements) - untested,
        "requirements_untested": untested,
        "unknown_requirement_refs": len(built.unknown_requirement_refs),
    }


def report_evidence(
    tool: Tool,
    requirements: tuple[str, ...],
    cases: Sequence[TestCase],
    raws: Sequence[tuple[str, bytes]],
    missing: Sequence[str],
    built: Matrix,
    *,
    ignored: Sequence[str] = (),
) -> Evidence:
    """`test_report`: fail on failed/errored tests, incomplete on missing or empty reports.

    `ignored` are sdl-tracker's own gate reports found among the inputs: named, never read."""
    counts = metrics(cases, built)
    failed = [c for c in cases if c.outcome in _BAD]
    failures, gaps = [], []
    if failed:
        failures.append(f"failed: {_ids([c.id for c in failed])}")
    if missing and not raws:
        gaps.append(
            f"no JUnit XML report at {', '.join(missing)}: run the tests with a JUnit report "
            "(e.g. `pytest --junitxml=reports/junit.xml`) before collecting, or set "
            "[collectors.tests] junit"
        )
    elif missing:
        gaps.append(f"missing report(s) {', '.join(missing)}: run the tests that write them")
    if raws and not cases:
        gaps.append("the reports hold no test case: check that the tests ran")
    notes = []
    if ignored:
        notes.append(
            f"ignored {', '.join(ignored)}: sdl-tracker's own gate report, not test results "
            "(write gate reports under sdl-reports/)"
        )
    head = (
        f"{counts['tests']} tests in {', '.join(n for n, _ in raws) or 'no report'}: "
        f"{sum(c.outcome is Outcome.PASSED for c in cases)} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped"
    )
    details: dict[str, JSON] = {
        "reports": [n for n, _ in raws],
        "missing_reports": list(missing) if missing else [],
        "ignored_reports": list(ignored),
        "errors": sum(c.outcome is Outcome.ERROR for c in cases),
        "failed_tests": [
            {
                "test": c.id,
                "result": c.outcome.value,
                "at": f"{c.report}:{c.line}",
                "message": c.message,
            }
            for c in failed[:_LIST_LIMIT]
        ],
        "by_requirement": _by(cases, "requirements"),
        "by_threat": _by(cases, "threats"),
    }
    return Evidence(
        kind="test_report",
        tool=tool,
        requirements=requirements,
        result=Result(_status(failures, gaps), "; ".join([head, *failures, *gaps, *notes]), counts),
        artifacts=tuple(raws),
        details=details,
    )


def trace_evidence(
    tool: Tool,
    requirements: tuple[str, ...],
    cases: Sequence[TestCase],
    built: Matrix,
    *,
    requirements_file: str | None,
    wanted_requirements: str,
    models: Sequence[str],
    no_reports: bool,
    artifact: bytes,
    release: Released | None = None,
) -> Evidence:
    """`traceability_matrix`: fail on a broken or failing link, incomplete without inputs."""
    counts = metrics(cases, built)
    threats = {(c.model, c.threat) for c in built.chains}
    unverified_fixes = built.unverified_fixes()
    counts.update(
        threats=len(threats),
        threats_verified=built.threats_verified(),
        mitigated_threats=built.mitigated(),
        mitigated_threats_unverified=len(built.unverified_mitigated()),
        unknown_threat_refs=len(built.unknown_threat_refs),
        missing_tests=len(built.missing_tests),
        security_fixes=len(built.fixes),
        security_fixes_verified=len(built.fixes) - len(unverified_fixes),
        security_fixes_unverified=len(unverified_fixes),
        unknown_fix_refs=len(built.unknown_fix_refs),
    )
    failures: list[str] = []
    gaps: list[str] = []
    if no_reports:
        # Without results every link is unknown: report the cause, not its consequences.
        gaps.append("no test results: run the tests with a JUnit report first")
    elif built.untested():
        failures.append(f"untested requirements: {_ids(built.untested())}")
    if built.unknown_requirement_refs and requirements_file is not None and not no_reports:
        pairs = [f"{t} -> {r}" for t, r in built.unknown_requirement_refs]
        failures.append(f"tests naming unknown requirements: {_ids(pairs)}")
    if built.unknown_threat_refs and not no_reports:
        pairs = [f"{t} -> {r}" for t, r in built.unknown_threat_refs]
        failures.append(f"tests naming unknown threats: {_ids(pairs)}")
    if built.unknown_fix_refs and not no_reports:
        pairs = [f"{t} -> {r}" for t, r in built.unknown_fix_refs]
        failures.append(f"tests naming unknown security issues: {_ids(pairs)}")
    if built.missing_tests and not no_reports:
        pairs = [f"{m} -> {t}" for m, t in built.missing_tests]
        failures.append(f"tests named by mitigations that did not run: {_ids(pairs)}")
    if built.failed_links() and not no_reports:
        failures.append(f"linked tests failed: {_ids(built.failed_links())}")
    notes = []
    if requirements_file is None:
        # Not a gap of this record: its `requirements` count is 0, which SVV-1 judges "not
        # demonstrated"; the threats and fixes it traces still count for SVV-2 and SUM-1.
        notes.append(
            f"no security requirements file {wanted_requirements}: write one (see "
            "docs/collectors/tests.md) so tests can be traced to requirements"
        )
    head = (
        f"{counts['requirements_tested']}/{counts['requirements']} security requirements "
        f"tested; {counts['threats']} threats in {len(models)} model(s), "
        f"{counts['threats_verified']} verified by passing tests"
    )
    unverified = built.unverified_mitigated()
    if unverified:
        head += f"; mitigated threats no passing test verifies: {_ids(unverified)}"
    if release is not None and release.folders:
        head += "; " + _fix_words(release, built)
    findings: list[JSON] = [
        {"id": t, "severity": "mitigated_threats_unverified"} for t in unverified
    ]
    findings += [
        {"id": f.issue, "aliases": list(f.aliases), "severity": "security_fixes_unverified"}
        for f in built.fixes
        if not f.verified
    ]
    details: dict[str, JSON] = {
        "requirements_file": requirements_file,
        "models": list(models),
        "untested_requirements": list(built.untested()),
        "unknown_requirement_refs": [list(p) for p in built.unknown_requirement_refs[:_LIST_LIMIT]],
        "unknown_threat_refs": [list(p) for p in built.unknown_threat_refs[:_LIST_LIMIT]],
        "missing_tests": [list(p) for p in built.missing_tests[:_LIST_LIMIT]],
        "release": release.tag if release is not None else None,
        "security_fixes": [f.issue for f in built.fixes],
        "unverified_fixes": list(unverified_fixes),
        # Each one can be waived by its id (SVV-2's and SUM-1's thresholds count them).
        "findings": findings,
    }
    return Evidence(
        kind="traceability_matrix",
        tool=tool,
        requirements=requirements,
        result=Result(_status(failures, gaps), "; ".join([head, *failures, *gaps, *notes]), counts),
        artifacts=(("traceability.json", artifact),),
        details=details,
    )


#: kind -> (the JUnit property / pytest marker, words)
MARKED = {
    "fuzzing": ("fuzz", "fuzz test"),
    "dynamic_analysis": ("resource_exhaustion", "resource-exhaustion test"),
}


def marked_evidence(tool: Tool, kind: str, cases: Sequence[TestCase]) -> Evidence | None:
    """`fuzzing` or `dynamic_analysis` from the tests marked so (None when no test is): `pass`
    when one ran and passed and none failed, `fail` when one failed, `incomplete` when every
    marked test was skipped. A skipped or failing test exercises no interface."""
    marker, words = MARKED[kind]
    attr = "fuzz" if marker == "fuzz" else "exhaustion"
    marked = [c for c in cases if getattr(c, attr)]
    if not marked:
        return None
    passed = [c for c in marked if c.outcome is Outcome.PASSED]
    failed = [c for c in marked if c.outcome in _BAD]
    skipped = [c for c in marked if c.outcome is Outcome.SKIPPED]
    exercised = sorted({i for c in passed for i in getattr(c, attr)})
    named = sorted({i for c in marked for i in getattr(c, attr)})
    counts = {
        "tests": len(marked),
        "passed": len(passed),
        "failed": len(failed),
        "skipped": len(skipped),
        "interfaces": len(named),
        "interfaces_exercised": len(exercised),
    }
    summary = (
        f"{len(marked)} {words}(s) (`@pytest.mark.{marker}`): {len(passed)} passed, "
        f"{len(failed)} failed, {len(skipped)} skipped; interfaces a passing test exercised: "
        f"{', '.join(exercised) or 'none'}"
    )
    failures = [f"failed: {_ids([c.id for c in failed])}"] if failed else []
    gaps = [] if passed else [f"no {words} passed (skipped ones never count): run them"]
    untested = [i for i in named if i not in exercised]
    notes = [f"interfaces no passing {words} exercised: {', '.join(untested)}"] if untested else []
    by_interface: dict[str, JSON] = {}
    for i in named:
        tests: list[JSON] = [
            {"test": c.id, "result": c.outcome.value, "at": f"{c.report}:{c.line}"}
            for c in marked
            if i in getattr(c, attr)
        ]
        by_interface[i] = tests[:_LIST_LIMIT]
    details: dict[str, JSON] = {
        "marker": marker,
        "interfaces": by_interface,
        # Each failing test is a finding, waivable by its id.
        "findings": [{"id": c.id, "severity": "failed"} for c in failed[:_LIST_LIMIT]],
    }
    return Evidence(
        kind=kind,
        tool=tool,
        requirements=("SVV-3",),
        result=Result(
            _status(failures, gaps), "; ".join([summary, *failures, *gaps, *notes]), counts
        ),
        details=details,
    )


def _fix_words(release: Released, built: Matrix) -> str:
    where = f"in {release.tag}" if release.tag else "before the first release tag"
    if release.previous:
        where += f" (since {release.previous})"
    unverified = built.unverified_fixes()
    words = (
        f"{len(built.fixes)} security issue(s) fixed {where}, "
        f"{len(built.fixes) - len(unverified)} verified by passing tests"
    )
    if unverified:
        words += f"; fixes no passing test verifies: {_ids(unverified)}"
    return words


def _status(failures: Sequence[str], gaps: Sequence[str]) -> ResultStatus:
    if failures:
        return ResultStatus.FAIL
    return ResultStatus.INCOMPLETE if gaps else ResultStatus.PASS


def _by(cases: Sequence[TestCase], attribute: str) -> dict[str, JSON]:
    result: dict[str, dict[str, int]] = {}
    for case in cases:
        for ref in getattr(case, attribute):
            counts = result.setdefault(ref, {o.value: 0 for o in Outcome})
            counts[case.outcome.value] += 1
    return {k: dict(v) for k, v in sorted(result.items())}


def _ids(ids: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return f"{shown} (+{len(ids) - limit} more)" if len(ids) > limit else shown
