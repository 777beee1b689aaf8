"""Load policies: the shipped default, project policies that `extend` it, and their tailoring.

A policy says, for each of the catalogue's requirements, which evidence satisfies it. The file
format is documented in docs/concepts/policy.md; `policies/iec62443-4-1.yaml` is the default.
Every mistake is a `PolicyError` naming the file and the line.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sdl_tracker.errors import CatalogError, InputError, PolicyError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.bounded import LimitError
from sdl_tracker.formats.yamlsource import Source
from sdl_tracker.models import Provenance
from sdl_tracker.policy import catalog as catalog_mod
from sdl_tracker.policy import parse as policy_parse
from sdl_tracker.policy.catalog import Catalog
from sdl_tracker.policy.model import (
    AllOf,
    AnyOf,
    Approvals,
    Bound,
    Expect,
    Leaf,
    Maturity,
    Policy,
    ProvenancePolicy,
    RequirementPolicy,
    Rule,
    describe,
    leaves,
    part_of,
)
from sdl_tracker.policy.parse import Layer, Override, ProvenanceSpec

DEFAULT = "iec62443-4-1"
BUILTIN = {"iec62443-4-1": "iec62443-4-1.yaml", "cra-2024-2847": "cra-2024-2847.yaml"}
FRAMEWORKS = {"iec62443-4-1": "iec62443-4-1", "cra": "cra-2024-2847"}
"""`--framework` name -> the shipped policy it is judged by when no --policy is given."""
DEFAULT_MAX_AGE_DAYS = 365
_MAX_DEPTH = 8

__all__ = ["DEFAULT", "Policy", "builtin_path", "load", "resolve"]


def resolve(explicit: Path | None, configured: Path | None, framework: str = DEFAULT) -> Policy:
    """The policy a command uses: `--policy` (or its env default), else the config's, else the
    shipped default. For another framework (`cra`), the configuration's policy (a 62443-4-1
    one) does not apply: `--policy`, else that framework's shipped policy; a policy for another
    catalogue is refused."""
    if framework not in FRAMEWORKS:
        raise PolicyError(f"unknown framework {framework!r} (known: {', '.join(FRAMEWORKS)})")
    if framework == DEFAULT:
        return load(explicit or configured or DEFAULT)
    shipped = load(FRAMEWORKS[framework])
    if explicit is None:
        return shipped
    policy = load(explicit)
    if policy.catalog.id != shipped.catalog.id:
        raise PolicyError(
            f"{explicit}: a policy for {policy.catalog.id}, but --framework {framework} judges "
            f"against {shipped.catalog.id}: give a policy that extends {FRAMEWORKS[framework]} "
            "(or drop --policy to use the shipped one)"
        )
    return policy


#: Reads a policy file's text (the policy as committed at a commit); raises `PolicyError`.
Reader = Callable[[Path], str]


def load(ref: str | Path, read: Reader | None = None) -> Policy:
    """Load a policy file (a path) or a shipped policy by name (`iec62443-4-1`).

    With `read`, the files (the named one and those it extends) come from it rather than the
    file system: the gate reads them as committed at the evaluated commit.
    """
    chain = _chain(ref, None, (), read)
    catalog_id: str | None = None
    for src, _, cat_line, cat_id in chain:
        if cat_id is None:
            continue
        if catalog_id is not None and cat_id != catalog_id:
            raise PolicyError(
                f"{src.name}:{cat_line}: catalog {cat_id!r} differs from the policy it extends "
                f"({catalog_id!r}); drop the key or extend a policy for {cat_id}"
            )
        try:
            catalog_mod.load(cat_id)
        except CatalogError as e:
            raise PolicyError(f"{src.name}:{cat_line}: {e}") from e
        catalog_id = cat_id
    cat = catalog_mod.load(catalog_id or catalog_mod.DEFAULT)
    layers = [policy_parse.body(src, cat) for src, _, _, _ in chain]
    return _merge(layers, cat)


def builtin_path(name: str) -> tuple[str, str]:
    """(where, text) of a shipped policy: package data, or the source tree (editable install)."""
    file = BUILTIN[name]
    packaged = resources.files("sdl_tracker.policy") / "policies" / file
    if packaged.is_file():
        return str(packaged), packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "policies" / file
    if source.is_file():
        return str(source), source.read_text(encoding="utf-8")
    raise PolicyError(
        f"the shipped policy {name!r} ({file}) is missing from this installation; "
        "reinstall sdl-tracker or pass --policy FILE"
    )


_Link = tuple[Source, "str | None", int, "str | None"]


def _chain(
    ref: str | Path, base: Path | None, seen: tuple[str, ...], read: Reader | None
) -> list[_Link]:
    """The files of `ref` and all it extends, base first: (source, name, line, catalog)."""
    where, text = _read(ref, base, read)
    if where in seen:
        raise PolicyError(f"{where}: `extends` loops back to this file ({' -> '.join(seen)})")
    if len(seen) >= _MAX_DEPTH:
        raise PolicyError(f"{where}: `extends` chain deeper than {_MAX_DEPTH} files")
    src = Source.parse(where, text)
    name, extends, cat_id = policy_parse.header(src)
    cat_line = policy_parse.key_line(src.root, "catalog")
    link: _Link = (src, name, cat_line, cat_id)
    if extends is None:
        return [link]
    parent_ref, parent_line = extends
    directory = Path(where).parent if str(ref) not in BUILTIN else None
    try:
        parents = _chain(parent_ref, directory, (*seen, where), read)
    except PolicyError as e:
        raise PolicyError(f"{where}:{parent_line}: extends {parent_ref!r}: {e}") from e
    return [*parents, link]


def _read(ref: str | Path, base: Path | None, read: Reader | None) -> tuple[str, str]:
    path = Path(ref)
    if read is not None:
        if str(ref) in BUILTIN:
            return builtin_path(str(ref))
        path = Path(os.path.normpath(base / path)) if base is not None else path
        return str(path), read(path)
    if str(ref) in BUILTIN and not (base or Path()).joinpath(path).is_file():
        return builtin_path(str(ref))
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        return str(path), bounded.read(path, "policy").decode("utf-8")
    except LimitError:
        raise
    except (InputError, UnicodeDecodeError) as e:
        reason = str(e).removeprefix(f"{path}: ") if isinstance(e, InputError) else "not UTF-8 text"
        raise PolicyError(
            f"{path}: cannot read the policy ({reason}); give an existing file with --policy "
            f"FILE (env SDL_TRACKER_POLICY), or the shipped {', '.join(BUILTIN)}"
        ) from e


@dataclass
class _State:
    """A requirement's policy while layers are stacked (mutable only inside `_merge`)."""

    rule: Rule | None = None
    expects: tuple[Expect, ...] | None = None
    process: tuple[str, ...] = ("process_doc",)
    max_age_days: int | None = None
    not_applicable: str | None = None
    parts: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    """kind -> (justification, `file:line` that declared it)."""


def _merge(layers: Sequence[Layer], cat: Catalog) -> Policy:
    states = {rid: _State() for rid in cat.ids()}
    default_age = DEFAULT_MAX_AGE_DAYS
    critical: tuple[str, ...] = ()
    maturity = Maturity()
    targets: dict[str, int] = {}
    provenance = ProvenancePolicy()
    approvals = Approvals()
    for layer in layers:
        provenance = _provenance(provenance, layer.provenance)
        approvals = dataclasses.replace(
            approvals,
            **{
                f.name: getattr(layer.approvals, f.name)
                for f in dataclasses.fields(layer.approvals)
                if getattr(layer.approvals, f.name) is not None
            },
        )
        for spec in layer.requirements:
            state = states[spec.id]
            state.rule = spec.rule or state.rule
            state.expects = spec.expects or state.expects
            state.process = spec.process or state.process
            state.max_age_days = spec.max_age_days or state.max_age_days
        for override in layer.thresholds:
            state = states[override.requirement]
            state.rule = _apply(state.rule, override, layer.source, override.requirement)
        for rid, justification in layer.not_applicable:
            states[rid].not_applicable = justification
        for part in layer.not_applicable_parts:
            where = f"{layer.source}:{part.line}"
            states[part.requirement].parts[part.kind] = (part.justification, where)
        default_age = layer.max_age_days or default_age
        critical = layer.critical_paths if layer.critical_paths is not None else critical
        given = {
            f.name: getattr(layer.maturity, f.name)
            for f in dataclasses.fields(layer.maturity)
            if f.name != "targets" and getattr(layer.maturity, f.name) is not None
        }
        maturity = dataclasses.replace(maturity, **given)
        targets.update(dict(layer.maturity.targets))
    requirements = tuple(
        _finish(rid, states[rid], cat, layers[0], default_age) for rid in cat.ids()
    )
    return Policy(
        name=next((la.name for la in reversed(layers) if la.name), Path(layers[-1].source).stem),
        sources=tuple(la.source for la in layers),
        catalog=cat,
        requirements=requirements,
        critical_paths=critical,
        maturity=dataclasses.replace(maturity, targets=tuple(sorted(targets.items()))),
        provenance=provenance,
        approvals=approvals,
    )


def _provenance(current: ProvenancePolicy, spec: ProvenanceSpec) -> ProvenancePolicy:
    """A layer's `provenance:` over the layers below it (per requirement, per kind)."""
    return ProvenancePolicy(
        tool_kinds=spec.tool_kinds if spec.tool_kinds is not None else current.tool_kinds,
        requirements=tuple(
            sorted({**dict(current.requirements), **dict(spec.requirements)}.items())
        ),
        kinds=_over(current.kinds, spec.kinds),
        signers=tuple(sorted({**dict(current.signers), **dict(spec.signers)}.items())),
    )


def _over(
    below: tuple[tuple[str, frozenset[Provenance]], ...],
    above: tuple[tuple[str, frozenset[Provenance]], ...],
) -> tuple[tuple[str, frozenset[Provenance]], ...]:
    return tuple(sorted({**dict(below), **dict(above)}.items()))


def _finish(rid: str, state: _State, cat: Catalog, base: Layer, age: int) -> RequirementPolicy:
    req = cat.requirement(rid)
    if state.rule is None or state.expects is None:
        missing = "requires" if state.rule is None else "expects"
        raise PolicyError(
            f"{base.source}:{base.requirements_line}: requirement {rid} ({req.title}) has no "
            f"`{missing}`: every requirement of {cat.id} needs a rule in the base policy"
        )
    return RequirementPolicy(
        id=rid,
        title=req.title,
        practice=req.practice,
        rule=state.rule,
        expects=state.expects,
        process=state.process,
        max_age_days=state.max_age_days or age,
        not_applicable=state.not_applicable,
        not_applicable_parts=_parts(rid, state.rule, state.parts),
    )


def _parts(rid: str, rule: Rule, parts: dict[str, tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The parts declared not applicable, each checked to name one `all_of` part of the rule."""
    found: dict[int, str] = {}
    for kind, (_, where) in parts.items():
        index = part_of(rule, kind)
        if index is None:
            raise PolicyError(
                f"{where}: not_applicable.{rid}.{kind}: the rule of {rid} has no all_of part "
                f"naming {kind} (it needs: {describe(rule)}); name a kind of one of its parts"
            )
        if index in found:
            raise PolicyError(
                f"{where}: not_applicable.{rid}.{kind}: the same part is already declared "
                f"not applicable as {found[index]}; declare it once"
            )
        found[index] = kind
    if isinstance(rule, AllOf) and parts and len(found) == len(rule.rules):
        where = next(iter(parts.values()))[1]
        raise PolicyError(
            f"{where}: not_applicable.{rid}: every part of its rule is declared not applicable; "
            f"declare {rid} itself not applicable (`not_applicable: {{{rid}: why}}`) instead"
        )
    return tuple((kind, why) for kind, (why, _) in sorted(parts.items()))


def _apply(rule: Rule | None, override: Override, source: str, rid: str) -> Rule:
    if rule is None or not any(leaf.kind == override.kind for leaf in leaves(rule)):
        needs = describe(rule) if rule is not None else "no rule yet"
        raise PolicyError(
            f"{source}:{override.line}: thresholds.{rid}.{override.kind}: the rule of {rid} "
            f"has no {override.kind} evidence to set thresholds on (it needs: {needs})"
        )
    return _replace_bounds(rule, override.kind, override.bounds)


def _replace_bounds(rule: Rule, kind: str, bounds: tuple[Bound, ...]) -> Rule:
    if isinstance(rule, Leaf):
        if rule.kind != kind:
            return rule
        merged = {b.metric: b for b in rule.thresholds}
        merged.update({b.metric: b for b in bounds})
        return dataclasses.replace(rule, thresholds=tuple(merged.values()))
    children = tuple(_replace_bounds(r, kind, bounds) for r in rule.rules)
    return AllOf(children) if isinstance(rule, AllOf) else AnyOf(children)
