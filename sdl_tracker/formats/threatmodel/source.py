"""Raw model input at the edge: JSON or YAML bytes -> Python values, and error places.

Every error names the file, the line when it can be found, and the JSON path of the value
(`$.threats[2].status`), so a user can go straight to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import yaml

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded

Path_ = Sequence["str | int"]


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay strings, checked where they are read."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Source:
    """A parsed model file: its display name, raw text and top-level value."""

    name: str
    text: str
    data: Any
    yaml_root: yaml.Node | None = None
    """The YAML node tree (line numbers); None for JSON, composed on the first error."""

    def where(self, path: Path_) -> str:
        """`file:line: $.a[0].b` (the line when it can be located)."""
        line = self._line(path)
        prefix = f"{self.name}:{line}" if line else self.name
        return f"{prefix}: {json_path(path)}"

    def error(self, path: Path_, message: str) -> InputError:
        return InputError(f"{self.where(path)}: {message}")

    @cached_property
    def _root(self) -> yaml.Node | None:
        return self.yaml_root if self.yaml_root is not None else _compose(self.text)

    def _line(self, path: Path_) -> int | None:
        node = self._root
        for part in path:
            found = None
            if isinstance(node, yaml.MappingNode):
                found = next(
                    (v for k, v in node.value if getattr(k, "value", None) == str(part)), None
                )
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                found = node.value[part] if 0 <= part < len(node.value) else None
            if found is None:
                break
            node = found
        return node.start_mark.line + 1 if node is not None else None


def parse(name: str, raw: bytes, kind: str = "threat_model") -> Source:
    """JSON when the content starts with `{` or `[`, YAML otherwise; InputError if neither.

    `kind` names the size limit that applies (`threat_model`, `requirements`)."""
    bounded.check(raw, name, kind)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{name}: byte {e.start}: expected UTF-8 text; save the file as UTF-8"
        ) from e
    if text.lstrip()[:1] in ("{", "["):
        try:
            return Source(name, text, bounded.json_loads(text, name, kind))
        except json.JSONDecodeError as e:
            raise InputError(f"{name}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from e
    try:
        node, data = bounded.yaml_document(text, name, kind, _Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{place}: invalid YAML: {problem}") from e
    return Source(name, text, data, node)


def _compose(text: str) -> yaml.Node | None:
    try:
        node: yaml.Node | None = bounded.yaml_compose(text, "model", "threat_model", _Loader)
    except (yaml.YAMLError, InputError):  # JSON PyYAML cannot read: the path without a line
        return None
    return node


def json_path(path: Path_) -> str:
    parts = ["$"]
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts)


def mapping(src: Source, value: Any, path: Path_, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise src.error(path, f"expected {what} (an object), got {_kind(value)}")
    return value


def sequence(src: Source, value: Any, path: Path_, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise src.error(path, f"expected {what} (a list), got {_kind(value)}")
    return value


def text(src: Source, value: Any, path: Path_, what: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise src.error(path, f"expected {what} (a string), got {_kind(value)}")
    if required and not str(value).strip():
        raise src.error(path, f"expected {what}, got an empty string")
    return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null or missing)"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), f"{type(value).__name__} {value!r}")


def validate(src: Source, schema_name: str) -> None:
    """Validate `src.data` against `schemas/<schema_name>` (beside this module); InputError at
    the place."""
    import jsonschema  # imported here: it is slow to import and only model readers need it

    schema = json.loads(
        resources.files("sdl_tracker.formats.threatmodel")
        .joinpath("schemas")
        .joinpath(schema_name)
        .read_text()
    )
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(src.data))
    if error is not None:
        raise src.error(
            list(error.absolute_path),
            f"{error.message} (schema: {schema_name}, shipped with sdl-tracker)",
        )
