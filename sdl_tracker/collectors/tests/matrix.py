"""The traceability matrix: threat -> mitigation -> requirement -> test -> result (pure).

A security requirement is *tested* when a test case in the reports names it (property
`security_requirement`) or a threat-model mitigation lists both the requirement and that test.
A security issue fixed in the release is *verified* when a test naming its id or an alias
(property `fixes`) passed and none failed.
Tests are named by pytest node id (`tests/test_x.py::TestA::test_b`) or JUnit
`classname.name`; a name without `[...]` parameters matches every parametrised case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sdl_tracker.formats.junit import Outcome, TestCase
from sdl_tracker.formats.threatmodel.model import ThreatModel
from sdl_tracker.formats.threatmodel.requirements import SecurityRequirement
from sdl_tracker.models import JSON

NOT_RUN = "not run"
NO_TEST = "no test"
_ORDER = (Outcome.PASSED, Outcome.SKIPPED, Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True)
class RequirementRow:
    id: str
    security_level: int
    capabilities: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]
    """(test id, worst outcome over the reports)."""


@dataclass(frozen=True)
class ChainRow:
    model: str
    threat: str
    threat_status: str
    mitigation: str
    requirements: tuple[str, ...]
    test: str
    result: str
    """An outcome, `not run` (named but absent from the reports) or `no test`."""


@dataclass(frozen=True)
class Fix:
    """A security issue fixed in the release: its id, then its aliases (a test may name any)."""

    ids: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.ids[0]


@dataclass(frozen=True)
class FixRow:
    issue: str
    aliases: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]
    """(test id, worst outcome over the reports)."""

    @property
    def verified(self) -> bool:
        """A test naming it passed and none failed or errored (a skipped one counts for
        nothing)."""
        results = {o for _, o in self.tests}
        bad = {Outcome.FAILED.value, Outcome.ERROR.value}
        return Outcome.PASSED.value in results and not results & bad


@dataclass(frozen=True)
class Matrix:
    requirements: tuple[RequirementRow, ...]
    chains: tuple[ChainRow, ...]
    unknown_requirement_refs: tuple[tuple[str, str], ...]
    """(test id, requirement id) for each test naming a requirement the file lacks."""
    unknown_threat_refs: tuple[tuple[str, str], ...]
    missing_tests: tuple[tuple[str, str], ...]
    """(model:mitigation, test name) for each test a mitigation names that did not run."""
    fixes: tuple[FixRow, ...] = ()
    """The security issues fixed in the release, with the tests that name them."""
    unknown_fix_refs: tuple[tuple[str, str], ...] = ()
    """(test id, issue id) for each test naming an issue no record holds."""

    def unverified_fixes(self) -> tuple[str, ...]:
        return tuple(f.issue for f in self.fixes if not f.verified)

    def untested(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.requirements if not r.tests)

    def failed_links(self) -> tuple[str, ...]:
        bad = {Outcome.FAILED.value, Outcome.ERROR.value}
        tests = [t for r in self.requirements for t, o in r.tests if o in bad]
        tests += [c.test for c in self.chains if c.result in bad]
        return tuple(dict.fromkeys(tests))

    def threats_verified(self) -> int:
        verified: dict[tuple[str, str], bool] = {}
        for c in self.chains:
            key = (c.model, c.threat)
            ok = c.result == Outcome.PASSED.value
            verified[key] = verified.get(key, True) and ok
        return sum(verified.values())

    def unverified_mitigated(self) -> tuple[str, ...]:
        """Threats a model marks mitigated that no passing test verifies (ids, `model:T-1`
        when several models are read)."""
        passed: dict[tuple[str, str], bool] = {}
        for c in self.chains:
            if c.threat_status == "mitigated":
                key = (c.model, c.threat)
                passed[key] = passed.get(key, True) and c.result == Outcome.PASSED.value
        several = len({m for m, _ in passed}) > 1
        return tuple(f"{m}:{t}" if several else t for (m, t), ok in passed.items() if not ok)

    def mitigated(self) -> int:
        return len({(c.model, c.threat) for c in self.chains if c.threat_status == "mitigated"})

    def to_json(self) -> dict[str, JSON]:
        return {
            "requirements": [
                {
                    "id": r.id,
                    "security_level": r.security_level,
                    "capabilities": list(r.capabilities),
                    "tests": [{"test": t, "result": o} for t, o in r.tests],
                }
                for r in self.requirements
            ],
            "chains": [
                {
                    "model": c.model,
                    "threat": c.threat,
                    "threat_status": c.threat_status,
                    "mitigation": c.mitigation,
                    "requirements": list(c.requirements),
                    "test": c.test,
                    "result": c.result,
                }
                for c in self.chains
            ],
            "unknown_requirement_refs": [list(p) for p in self.unknown_requirement_refs],
            "unknown_threat_refs": [list(p) for p in self.unknown_threat_refs],
            "missing_tests": [list(p) for p in self.missing_tests],
            "fixes": [
                {
                    "issue": f.issue,
                    "aliases": list(f.aliases),
                    "tests": [{"test": t, "result": o} for t, o in f.tests],
                    "verified": f.verified,
                }
                for f in self.fixes
            ],
            "unknown_fix_refs": [list(p) for p in self.unknown_fix_refs],
        }


class _Index:
    def __init__(self, cases: Iterable[TestCase]) -> None:
        self.exact: dict[str, list[TestCase]] = {}
        self.base: dict[str, list[TestCase]] = {}
        for case in cases:
            key = f"{case.classname}::{case.name}"
            self.exact.setdefault(key, []).append(case)
            self.base.setdefault(key.partition("[")[0], []).append(case)

    def find(self, ref: str) -> list[TestCase]:
        key = ref_key(ref)
        found = self.exact.get(key, [])
        if "[" not in key:
            found = found + [c for c in self.base.get(key, []) if c not in found]
        return found


def ref_key(ref: str) -> str:
    """`tests/test_a.py::TestB::test_c[x]` or `tests.test_a.TestB.test_c[x]` ->
    `tests.test_a.TestB::test_c[x]` (the JUnit classname and name pytest writes)."""
    base, bracket, params = ref.strip().partition("[")
    if "::" in base:
        path, *parts = base.split("::")
        module = path.replace("\\", "/").strip("/").removesuffix(".py").replace("/", ".")
        classname, name = ".".join([module, *parts[:-1]]), parts[-1]
    else:
        classname, _, name = base.rpartition(".")
    return f"{classname}::{name}{bracket}{params}"


def build(
    cases: Sequence[TestCase],
    requirements: Sequence[SecurityRequirement],
    models: Sequence[ThreatModel],
    fixes: Sequence[Fix] = (),
    known_issues: frozenset[str] | None = None,
) -> Matrix:
    """`fixes` are the issues fixed in the release; `known_issues` every id and alias the
    issue records hold (None without records: then no `fixes` reference is unknown)."""
    index = _Index(cases)
    linked: dict[str, dict[str, Outcome]] = {r.id: {} for r in requirements}
    unknown_requirements = []
    for case in cases:
        for rid in case.requirements:
            if rid in linked:
                _link(linked[rid], case)
            else:
                unknown_requirements.append((case.id, rid))
    chains: list[ChainRow] = []
    missing: list[tuple[str, str]] = []
    for model in models:
        for mitigation in model.mitigations:
            for ref in mitigation.tests:
                found = index.find(ref)
                if not found:
                    missing.append((f"{model.path}:{mitigation.id}", ref))
                for rid in mitigation.requirements:
                    for case in found:
                        if rid in linked:
                            _link(linked[rid], case)
        chains.extend(_chains(model, cases, index))
    threat_ids = {t.id for m in models for t in m.threats}
    unknown_threats = [
        (c.id, tid) for c in cases for tid in c.threats if models and tid not in threat_ids
    ]
    rows = tuple(
        RequirementRow(
            r.id,
            r.security_level,
            r.capabilities,
            tuple((t, o.value) for t, o in linked[r.id].items()),
        )
        for r in requirements
    )
    return Matrix(
        rows,
        tuple(chains),
        tuple(dict.fromkeys(unknown_requirements)),
        tuple(dict.fromkeys(unknown_threats)),
        tuple(dict.fromkeys(missing)),
        _fix_rows(fixes, cases),
        tuple(
            dict.fromkeys(
                (c.id, ref)
                for c in cases
                for ref in c.fixes
                if known_issues is not None and ref not in known_issues
            )
        ),
    )


def _fix_rows(fixes: Sequence[Fix], cases: Sequence[TestCase]) -> tuple[FixRow, ...]:
    naming: dict[str, list[TestCase]] = {}
    for case in cases:
        for ref in case.fixes:
            naming.setdefault(ref, []).append(case)
    rows = []
    for fix in fixes:
        tests: dict[str, Outcome] = {}
        for case in (c for ref in fix.ids for c in naming.get(ref, ())):
            _link(tests, case)
        rows.append(FixRow(fix.id, fix.ids[1:], tuple((t, o.value) for t, o in tests.items())))
    return tuple(rows)


def _link(tests: dict[str, Outcome], case: TestCase) -> None:
    old = tests.get(case.id)
    if old is None or _ORDER.index(case.outcome) > _ORDER.index(old):
        tests[case.id] = case.outcome


def _chains(model: ThreatModel, cases: Sequence[TestCase], index: _Index) -> list[ChainRow]:
    rows: list[ChainRow] = []
    for threat in model.threats:
        start = (model.path, threat.id, threat.status.value)
        before = len(rows)
        for m in (m for m in model.mitigations if threat.id in m.threats):
            results: dict[str, str] = {}
            for ref in m.tests:
                found = index.find(ref)
                if not found:
                    results.setdefault(ref, NOT_RUN)
                for case in found:
                    results[case.id] = _worse(results.get(case.id), case.outcome)
            for test, result in results.items() or [("", NO_TEST)]:
                rows.append(ChainRow(*start, m.id, m.requirements, test, result))
        direct: dict[str, str] = {}
        seen = {r.test for r in rows[before:]}
        for case in (c for c in cases if threat.id in c.threats and c.id not in seen):
            direct[case.id] = _worse(direct.get(case.id), case.outcome)
        rows.extend(ChainRow(*start, "", (), t, r) for t, r in direct.items())
        if len(rows) == before:
            rows.append(ChainRow(*start, "", (), "", NO_TEST))
    return rows


def _worse(old: str | None, new: Outcome) -> str:
    if old is None or old == NOT_RUN:
        return new.value
    return max(old, new.value, key=lambda v: _ORDER.index(Outcome(v)))
