"""Read the `requires` rules of a policy file: evidence kinds, all_of / any_of, thresholds."""

from __future__ import annotations

import difflib
import re

import yaml

from sdl_tracker.formats.yamlsource import Source
from sdl_tracker.policy.catalog import Catalog
from sdl_tracker.policy.model import AllOf, AnyOf, Bound, Leaf, Rule

_LEAF_KEYS = (
    "kind",
    "thresholds",
    "max_age_days",
    "named",
    "cover_critical",
    "population",
    "tracks_findings",
    "none_listed",
)
_METRIC = re.compile(r"^[a-z_][a-z0-9_]*(/[a-z_][a-z0-9_]*)?$")


class RuleReader:
    """Checks rules against the catalogue's evidence kinds; errors name file and line."""

    def __init__(self, src: Source, cat: Catalog) -> None:
        self.src = src
        self.cat = cat

    def kind(self, node: yaml.Node, what: str) -> str:
        kind = self.src.text(node, what)
        if kind not in self.cat.evidence_kinds:
            close = difflib.get_close_matches(kind, sorted(self.cat.evidence_kinds), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.src.error(
                node,
                f"{what}: unknown evidence kind {kind!r}{hint} (the catalogue's kinds: "
                "`sdl-tracker catalog --format json`, key evidence_kinds)",
            )
        return kind

    def rule(self, node: yaml.Node, what: str) -> Rule:
        if isinstance(node, yaml.ScalarNode):
            return Leaf(kind=self.kind(node, what))
        items = self.src.mapping(node, what)
        combinators = [(k, kn, v) for k, kn, v in items if k in ("all_of", "any_of")]
        if combinators:
            key, key_node, value = combinators[0]
            if len(items) != 1:
                raise self.src.error(key_node, f"{what}: {key} must be the only key of its mapping")
            children = self.src.sequence(value, f"{what}.{key}")
            if not children:
                raise self.src.error(
                    value,
                    f"{what}.{key} is empty: list at least one evidence kind "
                    "(an empty rule would pass without evidence)",
                )
            rules = tuple(self.rule(c, f"{what}.{key}[{i}]") for i, c in enumerate(children))
            return AllOf(rules) if key == "all_of" else AnyOf(rules)
        return self.leaf(node, what)

    def leaf(self, node: yaml.Node, what: str) -> Leaf:
        found = self.src.keys(node, what, _LEAF_KEYS)
        if "kind" not in found:
            raise self.src.error(
                node,
                f"{what}: expected an evidence kind: text, a mapping with `kind:`, or "
                "`all_of:` / `any_of:` with a list",
            )
        return Leaf(
            kind=self.kind(found["kind"], f"{what}.kind"),
            thresholds=self.bounds(found["thresholds"], f"{what}.thresholds")
            if "thresholds" in found
            else (),
            max_age_days=self.src.integer(found["max_age_days"], f"{what}.max_age_days", 1)
            if "max_age_days" in found
            else None,
            named=self.src.boolean(found["named"], f"{what}.named") if "named" in found else False,
            cover_critical=self.src.boolean(found["cover_critical"], f"{what}.cover_critical")
            if "cover_critical" in found
            else False,
            population=self.population(found["population"], f"{what}.population")
            if "population" in found
            else None,
            none_listed=self.population(found["none_listed"], f"{what}.none_listed")
            if "none_listed" in found
            else None,
            tracks_findings=self.src.boolean(found["tracks_findings"], f"{what}.tracks_findings")
            if "tracks_findings" in found
            else False,
        )

    def population(self, node: yaml.Node, what: str) -> str:
        metric = self.src.text(node, what)
        if not _METRIC.match(metric) or "/" in metric:
            raise self.src.error(
                node, f"{what}: {metric!r} is not a metric name (lower_case, e.g. issues)"
            )
        return metric

    def bounds(self, node: yaml.Node, what: str) -> tuple[Bound, ...]:
        result = []
        for metric, key_node, value in self.src.mapping(node, what):
            if not _METRIC.match(metric):
                raise self.src.error(
                    key_node,
                    f"{what}: {metric!r} is not a metric name (lower_case, or a ratio "
                    "`numerator/denominator`)",
                )
            limits = self.src.keys(value, f"{what}.{metric}", ("min", "max"))
            if not limits:
                raise self.src.error(value, f"{what}.{metric}: give min, max or both")
            low = (
                self.src.number(limits["min"], f"{what}.{metric}.min") if "min" in limits else None
            )
            high = (
                self.src.number(limits["max"], f"{what}.{metric}.max") if "max" in limits else None
            )
            if low is not None and high is not None and low > high:
                raise self.src.error(value, f"{what}.{metric}: min {low:g} is above max {high:g}")
            result.append(Bound(metric=metric, minimum=low, maximum=high))
        return tuple(result)
