"""A YAML document read as nodes that keep their line numbers, for errors that say `file:line`.

`yaml.safe_load` forgets where a value came from; policy errors must name the line, so the policy
reader walks the composed node tree instead and converts scalars with PyYAML's safe constructor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from sdl_tracker.errors import PolicyError
from sdl_tracker.formats import bounded

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SHOWN = 60


def line(node: yaml.Node) -> int:
    """1-based line of a node."""
    return int(node.start_mark.line) + 1


@dataclass(frozen=True)
class Source:
    """One YAML file: its name (as shown in errors) and its root node."""

    name: str
    root: yaml.Node

    @classmethod
    def parse(cls, name: str, text: str) -> Source:
        try:
            root = bounded.yaml_compose(text, name, "policy")
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = f"{name}:{mark.line + 1}" if mark else name
            raise PolicyError(f"{where}: invalid YAML: {e.problem or e}") from e
        except yaml.YAMLError as e:
            raise PolicyError(f"{name}: invalid YAML: {e}") from e
        if root is None:
            raise PolicyError(f"{name}:1: the policy file is empty; expected a mapping")
        if not isinstance(root, yaml.MappingNode):
            # Not a policy at all (a secrets file given to `extends`?): never quote its content.
            raise PolicyError(
                f"{name}:{line(root)}: not a policy: expected a YAML mapping "
                f"(policy:, requirements:, ...), got {_kind(root)} (content not shown)"
            )
        return cls(name=name, root=root)

    def error(self, node: yaml.Node, message: str) -> PolicyError:
        return PolicyError(f"{self.name}:{line(node)}: {message}")

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping with text keys and no duplicates."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping, got {_describe(node)}")
        seen: set[str] = set()
        items: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                raise self.error(key_node, f"{what}: keys must be text, got {_describe(key_node)}")
            key = str(key_node.value)
            if key in seen:
                raise self.error(key_node, f"{what}: duplicate key {key!r}")
            seen.add(key)
            items.append((key, key_node, value_node))
        return items

    def keys(
        self,
        node: yaml.Node,
        what: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> dict[str, yaml.Node]:
        """A mapping whose keys must come from `allowed`; `required` keys must be present."""
        items = self.mapping(node, what)
        for key, key_node, _ in items:
            if key not in allowed:
                raise self.error(
                    key_node, f"{what}: unknown key {key!r} (expected one of: {', '.join(allowed)})"
                )
        found = {key: value for key, _, value in items}
        for key in required:
            if key not in found:
                raise self.error(node, f"{what}: missing key {key!r}")
        return found

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list, got {_describe(node)}")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        """A non-empty string (numbers and booleans are refused, not converted)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            raise self.error(node, f"{what} must be text, got {_describe(node)}")
        value = str(node.value).strip()
        if not value:
            raise self.error(node, f"{what} must not be empty")
        return value

    def texts(self, node: yaml.Node, what: str) -> tuple[tuple[str, yaml.Node], ...]:
        """A string or a list of strings, each with its node."""
        if isinstance(node, yaml.ScalarNode):
            return ((self.text(node, what), node),)
        return tuple((self.text(n, f"each of {what}"), n) for n in self.sequence(node, what))

    def integer(self, node: yaml.Node, what: str, minimum: int) -> int:
        value = _scalar(node)
        if node.tag != _INT or not isinstance(value, int) or isinstance(value, bool):
            raise self.error(node, f"{what} must be a whole number, got {_describe(node)}")
        if value < minimum:
            raise self.error(node, f"{what} must be at least {minimum}, got {value}")
        return value

    def number(self, node: yaml.Node, what: str) -> float:
        value = _scalar(node)
        if node.tag not in (_INT, _FLOAT) or not isinstance(value, (int, float)):
            raise self.error(node, f"{what} must be a number, got {_describe(node)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise self.error(node, f"{what} must be a finite number")
        return float(value)

    def boolean(self, node: yaml.Node, what: str) -> bool:
        value = _scalar(node)
        if node.tag != _BOOL or not isinstance(value, bool):
            raise self.error(node, f"{what} must be true or false, got {_describe(node)}")
        return value


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return None
    return SafeConstructor().construct_object(node, deep=True)


def _kind(node: yaml.Node) -> str:
    return "a list" if isinstance(node, yaml.SequenceNode) else "text"


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing (null)"
    kind = {_STR: "text", _INT: "a number", _FLOAT: "a number", _BOOL: "a boolean"}.get(
        str(node.tag), "a value"
    )
    value = str(node.value)
    # Quote at most a short value on one line: a file that is not a policy (a secrets file
    # given to `extends`) parses as one long text, and must not land in a CI log.
    if node.start_mark.line != node.end_mark.line or len(value) > _SHOWN:
        return f"{kind} ({len(value)} characters, not shown)"
    return f"{kind} {value!r}"
