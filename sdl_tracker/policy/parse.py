"""Read one policy file into a `Layer`: every value checked, every mistake reported as file:line.

`sdl_tracker.policy` stacks layers (`extends`) into the resolved `Policy`.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

import yaml

from sdl_tracker.formats.roster import ROLES
from sdl_tracker.formats.yamlsource import Source, line
from sdl_tracker.models import Provenance, normalise_path
from sdl_tracker.policy.catalog import Catalog
from sdl_tracker.policy.model import Bound, Expect, Rule, SignerRule
from sdl_tracker.policy.rules import RuleReader

TOP_KEYS = (
    "policy",
    "extends",
    "catalog",
    "max_age_days",
    "critical_paths",
    "maturity",
    "requirements",
    "not_applicable",
    "thresholds",
    "provenance",
    "approvals",
)
_REQ_KEYS = ("title", "expects", "process", "max_age_days", "requires")
_MATURITY_KEYS = (
    "releases",
    "release_spacing_days",
    "max_age_days",
    "roles",
    "training",
    "improvement",
    "reviews",
    "targets",
)


@dataclass(frozen=True)
class ReqSpec:
    """One requirement entry of a layer; None means `not given here`."""

    id: str
    line: int
    rule: Rule | None = None
    expects: tuple[Expect, ...] | None = None
    process: tuple[str, ...] | None = None
    max_age_days: int | None = None


@dataclass(frozen=True)
class Override:
    """`thresholds: {REQ: {kind: {metric: {min, max}}}}` in a layer."""

    requirement: str
    kind: str
    bounds: tuple[Bound, ...]
    line: int


@dataclass(frozen=True)
class MaturitySpec:
    """`maturity:` of a layer; None means `not given here`."""

    releases: int | None = None
    release_spacing_days: int | None = None
    max_age_days: int | None = None
    roles: tuple[str, ...] | None = None
    training: tuple[str, ...] | None = None
    improvement: tuple[str, ...] | None = None
    reviews: tuple[str, ...] | None = None
    targets: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ProvenanceSpec:
    """`provenance:` of a layer; None / empty means `not given here`."""

    tool_kinds: frozenset[Provenance] | None = None
    requirements: tuple[tuple[str, frozenset[Provenance]], ...] = ()
    kinds: tuple[tuple[str, frozenset[Provenance]], ...] = ()
    signers: tuple[tuple[str, SignerRule], ...] = ()


@dataclass(frozen=True)
class ApprovalsSpec:
    """`approvals:` of a layer; None means `not given here`."""

    waiver_max_days: int | None = None


@dataclass(frozen=True)
class PartSpec:
    """`not_applicable: {REQ: {kind: justification}}`: the part of REQ's rule naming `kind`."""

    requirement: str
    kind: str
    justification: str
    line: int


@dataclass(frozen=True)
class Layer:
    """One policy file, parsed and checked against the catalogue."""

    source: str
    name: str | None
    max_age_days: int | None
    critical_paths: tuple[str, ...] | None
    maturity: MaturitySpec
    requirements: tuple[ReqSpec, ...]
    not_applicable: tuple[tuple[str, str], ...]
    thresholds: tuple[Override, ...]
    requirements_line: int = 1
    provenance: ProvenanceSpec = ProvenanceSpec()
    approvals: ApprovalsSpec = ApprovalsSpec()
    not_applicable_parts: tuple[PartSpec, ...] = ()


def header(src: Source) -> tuple[str | None, tuple[str, int] | None, str | None]:
    """(name, (extends, line) or None, catalog id or None) of a policy file."""
    top = src.keys(src.root, "policy file", TOP_KEYS)
    name = src.text(top["policy"], "policy") if "policy" in top else None
    extends = None
    if "extends" in top:
        extends = (src.text(top["extends"], "extends"), line(top["extends"]))
    catalog = src.text(top["catalog"], "catalog") if "catalog" in top else None
    return name, extends, catalog


def body(src: Source, cat: Catalog) -> Layer:
    top = src.keys(src.root, "policy file", TOP_KEYS)
    checker = _Checker(src, cat)
    return Layer(
        source=src.name,
        name=src.text(top["policy"], "policy") if "policy" in top else None,
        max_age_days=checker.age(top["max_age_days"], "max_age_days")
        if "max_age_days" in top
        else None,
        critical_paths=checker.paths(top["critical_paths"]) if "critical_paths" in top else None,
        maturity=checker.maturity(top["maturity"]) if "maturity" in top else MaturitySpec(),
        requirements=checker.requirements(top["requirements"]) if "requirements" in top else (),
        not_applicable=checker.not_applicable(top["not_applicable"])
        if "not_applicable" in top
        else (),
        not_applicable_parts=checker.parts(top["not_applicable"])
        if "not_applicable" in top
        else (),
        thresholds=checker.overrides(top["thresholds"]) if "thresholds" in top else (),
        requirements_line=key_line(src.root, "requirements"),
        provenance=checker.provenance(top["provenance"])
        if "provenance" in top
        else ProvenanceSpec(),
        approvals=checker.approvals(top["approvals"]) if "approvals" in top else ApprovalsSpec(),
    )


def _visible(text: str) -> bool:
    """Whether `text` holds a letter or digit once blanks and invisible characters are gone."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def key_line(root: yaml.Node, key: str) -> int:
    """Line of a top-level key, or 1 when absent."""
    for k, _ in root.value:
        if getattr(k, "value", None) == key:
            return line(k)
    return 1


class _Checker:
    def __init__(self, src: Source, cat: Catalog) -> None:
        self.src = src
        self.cat = cat
        self.ids = set(cat.ids())
        self.rules = RuleReader(src, cat)
        self.kind = self.rules.kind
        self.rule = self.rules.rule
        self.bounds = self.rules.bounds

    def requirement_id(self, node: yaml.Node, rid: str) -> str:
        if rid not in self.ids:
            close = difflib.get_close_matches(rid, sorted(self.ids), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.src.error(
                node,
                f"unknown requirement {rid!r} in {self.cat.id}{hint} "
                "(`sdl-tracker catalog` lists the ids)",
            )
        return rid

    def age(self, node: yaml.Node, what: str) -> int:
        return self.src.integer(node, what, 1)

    def paths(self, node: yaml.Node) -> tuple[str, ...]:
        found = self.src.texts(node, "critical_paths")
        return tuple(normalise_path(p) for p, _ in found)

    def requirements(self, node: yaml.Node) -> tuple[ReqSpec, ...]:
        specs = []
        for rid, key_node, value in self.src.mapping(node, "requirements"):
            self.requirement_id(key_node, rid)
            specs.append(self.requirement(rid, key_node, value))
        return tuple(specs)

    def requirement(self, rid: str, key_node: yaml.Node, node: yaml.Node) -> ReqSpec:
        what = f"requirements.{rid}"
        found = self.src.keys(node, what, _REQ_KEYS)
        if "title" in found:
            title = self.src.text(found["title"], f"{what}.title")
            expected = self.cat.requirement(rid).title
            if title != expected:
                raise self.src.error(
                    found["title"],
                    f"{what}.title is {title!r} but the catalogue calls {rid} {expected!r}: "
                    "check the id, or drop the title",
                )
        expects = None
        if "expects" in found:
            expects = tuple(
                self.expect(n, value, f"{what}.expects")
                for value, n in self.src.texts(found["expects"], f"{what}.expects")
            )
        process = None
        if "process" in found:
            process = tuple(
                self.kind(n, f"{what}.process")
                for _, n in self.src.texts(found["process"], f"{what}.process")
            )
        return ReqSpec(
            id=rid,
            line=line(key_node),
            rule=self.rule(found["requires"], f"{what}.requires") if "requires" in found else None,
            expects=expects,
            process=process,
            max_age_days=self.age(found["max_age_days"], f"{what}.max_age_days")
            if "max_age_days" in found
            else None,
        )

    def expect(self, node: yaml.Node, value: str, what: str) -> Expect:
        try:
            return Expect(value)
        except ValueError:
            known = ", ".join(e.value for e in Expect)
            raise self.src.error(
                node, f"{what}: unknown value {value!r} (known: {known})"
            ) from None

    def not_applicable(self, node: yaml.Node) -> tuple[tuple[str, str], ...]:
        result = []
        for rid, key_node, value in self.src.mapping(node, "not_applicable"):
            self.requirement_id(key_node, rid)
            if isinstance(value, yaml.MappingNode):
                continue  # parts of the rule (`parts`)
            self.justification(key_node, value, rid, rid)
            result.append((rid, self.src.text(value, f"not_applicable.{rid} (justification)")))
        return tuple(result)

    def parts(self, node: yaml.Node) -> tuple[PartSpec, ...]:
        """`not_applicable: {SVV-3: {fuzzing: why}}`: parts of a rule declared not applicable."""
        result = []
        for rid, _, value in self.src.mapping(node, "not_applicable"):
            if not isinstance(value, yaml.MappingNode):
                continue
            for kind, kind_node, why in self.src.mapping(value, f"not_applicable.{rid}"):
                what = f"not_applicable.{rid}.{kind}"
                self.kind(kind_node, what)
                self.justification(kind_node, why, f"{rid}.{kind}", f"the {kind} part of {rid}")
                text = self.src.text(why, f"{what} (justification)")
                result.append(PartSpec(rid, kind, text, line(kind_node)))
        return tuple(result)

    def justification(self, key: yaml.Node, value: yaml.Node, where: str, what: str) -> None:
        if isinstance(value, yaml.ScalarNode) and not _visible(str(value.value)):
            raise self.src.error(
                key,
                f"not_applicable.{where}: missing justification (empty, or only blanks and "
                f"invisible characters): say why {what} does not apply (an assessor reads it)",
            )

    def provenance(self, node: yaml.Node) -> ProvenanceSpec:
        found = self.src.keys(
            node, "provenance", ("tool_kinds", "requirements", "kinds", "signers")
        )
        signers = []
        if "signers" in found:
            for rid, key_node, value in self.src.mapping(found["signers"], "provenance.signers"):
                self.requirement_id(key_node, rid)
                signers.append((rid, self.signer(value, f"provenance.signers.{rid}")))
        requirements = []
        if "requirements" in found:
            for rid, key_node, value in self.src.mapping(found["requirements"], "provenance"):
                self.requirement_id(key_node, rid)
                requirements.append((rid, self.classes(value, f"provenance.requirements.{rid}")))
        kinds = []
        if "kinds" in found:
            for kind, key_node, value in self.src.mapping(found["kinds"], "provenance.kinds"):
                self.kind(key_node, "provenance.kinds")
                kinds.append((kind, self.classes(value, f"provenance.kinds.{kind}")))
        return ProvenanceSpec(
            tool_kinds=self.classes(found["tool_kinds"], "provenance.tool_kinds")
            if "tool_kinds" in found
            else None,
            requirements=tuple(requirements),
            kinds=tuple(kinds),
            signers=tuple(signers),
        )

    def signer(self, node: yaml.Node, what: str) -> SignerRule:
        found = self.src.keys(node, what, ("roles", "not_author"))
        if "roles" not in found:
            raise self.src.error(node, f"{what}: expected `roles:` (roster roles, a list)")
        roles = []
        for role, role_node in self.src.texts(found["roles"], f"{what}.roles"):
            if role not in ROLES:
                raise self.src.error(
                    role_node, f"{what}.roles: unknown role {role!r} (known: {', '.join(ROLES)})"
                )
            roles.append(role)
        if not roles:
            raise self.src.error(found["roles"], f"{what}.roles is empty: name a role")
        not_author = (
            self.src.boolean(found["not_author"], f"{what}.not_author")
            if "not_author" in found
            else False
        )
        return SignerRule(tuple(roles), not_author)

    def classes(self, node: yaml.Node, what: str) -> frozenset[Provenance]:
        """A non-empty list of provenance classes (verified, ingested, attested, signed)."""
        found = self.src.texts(node, what)
        if not found:
            raise self.src.error(node, f"{what} is empty: list the provenance classes that count")
        result = set()
        for value, value_node in found:
            try:
                result.add(Provenance(value))
            except ValueError:
                known = ", ".join(p.value for p in Provenance)
                raise self.src.error(
                    value_node, f"{what}: unknown provenance class {value!r} (known: {known})"
                ) from None
        return frozenset(result)

    def approvals(self, node: yaml.Node) -> ApprovalsSpec:
        found = self.src.keys(node, "approvals", ("waiver_max_days",))
        return ApprovalsSpec(
            waiver_max_days=self.src.integer(
                found["waiver_max_days"], "approvals.waiver_max_days", 1
            )
            if "waiver_max_days" in found
            else None,
        )

    def overrides(self, node: yaml.Node) -> tuple[Override, ...]:
        result = []
        for rid, key_node, value in self.src.mapping(node, "thresholds"):
            self.requirement_id(key_node, rid)
            for kind, kind_node, bounds in self.src.mapping(value, f"thresholds.{rid}"):
                self.kind(kind_node, f"thresholds.{rid}")
                found = self.bounds(bounds, f"thresholds.{rid}.{kind}")
                result.append(Override(rid, kind, found, line(kind_node)))
        return tuple(result)

    def maturity(self, node: yaml.Node) -> MaturitySpec:
        found = self.src.keys(node, "maturity", _MATURITY_KEYS)

        def kinds(key: str) -> tuple[str, ...] | None:
            if key not in found:
                return None
            what = f"maturity.{key}"
            return tuple(self.kind(n, what) for _, n in self.src.texts(found[key], what))

        return MaturitySpec(
            releases=self.src.integer(found["releases"], "maturity.releases", 1)
            if "releases" in found
            else None,
            release_spacing_days=self.src.integer(
                found["release_spacing_days"], "maturity.release_spacing_days", 0
            )
            if "release_spacing_days" in found
            else None,
            max_age_days=self.age(found["max_age_days"], "maturity.max_age_days")
            if "max_age_days" in found
            else None,
            roles=kinds("roles"),
            training=kinds("training"),
            improvement=kinds("improvement"),
            reviews=tuple(
                self.requirement_id(n, rid)
                for rid, n in self.src.texts(found["reviews"], "maturity.reviews")
            )
            if "reviews" in found
            else None,
            targets=self.targets(found["targets"]) if "targets" in found else (),
        )

    def targets(self, node: yaml.Node) -> tuple[tuple[str, int], ...]:
        practices = [p.id for p in self.cat.practices]
        result = []
        for pid, key_node, value in self.src.mapping(node, "maturity.targets"):
            if pid not in practices:
                raise self.src.error(
                    key_node,
                    f"maturity.targets: unknown practice {pid!r} (known: {', '.join(practices)})",
                )
            level = self.src.integer(value, f"maturity.targets.{pid}", 1)
            if level > 4:
                raise self.src.error(value, f"maturity.targets.{pid} must be 1 to 4, got {level}")
            result.append((pid, level))
        return tuple(result)
