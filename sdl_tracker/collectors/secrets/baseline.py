"""Read and check a detect-secrets baseline (`.secrets.baseline`) before handing it over.

The baseline's `results` map file names to the secrets already known there, each by `type` and
`hashed_secret` (SHA-1 of the value); its `plugins_used` and `filters_used` configure the scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded
from sdl_tracker.formats.bounded import LimitError

_SHA1 = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Baseline:
    """A validated baseline: where it is, the scan settings it names, the secrets it lists."""

    path: str
    """Relative to the repository root."""
    settings: Mapping[str, Any]
    """`plugins_used` / `filters_used`, as detect-secrets reads them (raw, validated)."""
    known: frozenset[tuple[str, str, str]]
    """(file name, secret type, hashed_secret) of every listed secret."""

    def lists(self, filename: str, kind: str, hashed_secret: str) -> bool:
        return (filename, kind, hashed_secret) in self.known


def load_baseline(root: Path, path: str) -> Baseline | None:
    """The baseline at `root/path`, None when there is none; InputError naming the place."""
    file = root / path
    if not file.is_file():
        return None
    fix = f"fix it, or regenerate it with `detect-secrets scan > {path}`"
    try:
        data = bounded.json_loads(bounded.read(file, "report", str(path)), str(path), "report")
    except json.JSONDecodeError as e:
        raise InputError(
            f"{path}: line {e.lineno} column {e.colno}: invalid JSON ({e.msg}); "
            f"expected a detect-secrets baseline; {fix}"
        ) from e
    except LimitError:
        raise
    except (InputError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the baseline: {e}; {fix}") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: $: expected a JSON object (a detect-secrets baseline); {fix}")
    known = _results(data.get("results"), path, fix)
    _check_list(data, "plugins_used", "name", path, fix)
    _check_list(data, "filters_used", "path", path, fix)
    if not isinstance(data.get("version"), str):
        raise InputError(f"{path}: $.version: expected the detect-secrets version string; {fix}")
    from detect_secrets.core.baseline import upgrade

    try:
        upgraded = upgrade(data)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(
            f"{path}: $.version: cannot upgrade a baseline of version "
            f"{data['version']!r} ({e}); {fix}"
        ) from e
    _check_plugins(upgraded.get("plugins_used", []), path, fix)
    settings: dict[str, Any] = {
        k: upgraded[k] for k in ("plugins_used", "filters_used") if k in upgraded
    }
    return Baseline(path=path, settings=settings, known=known)


def _results(results: object, path: str, fix: str) -> frozenset[tuple[str, str, str]]:
    if not isinstance(results, dict):
        raise InputError(f"{path}: $.results: expected an object of file name -> secrets; {fix}")
    known = set()
    for filename, items in results.items():
        place = f"$.results[{json.dumps(filename)}]"
        if not isinstance(items, list):
            raise InputError(f"{path}: {place}: expected a list of secrets; {fix}")
        for i, item in enumerate(items):
            where = f"{path}: {place}[{i}]"
            if not isinstance(item, dict):
                raise InputError(f"{where}: expected an object; {fix}")
            kind, hashed = item.get("type"), item.get("hashed_secret")
            if not isinstance(kind, str) or not kind:
                raise InputError(
                    f'{where}.type: expected the secret type, e.g. "AWS Access Key"; {fix}'
                )
            if not isinstance(hashed, str) or not _SHA1.fullmatch(hashed):
                raise InputError(f"{where}.hashed_secret: expected 40 lowercase hex digits; {fix}")
            line = item.get("line_number", 0)
            if not isinstance(line, int) or isinstance(line, bool) or line < 0:
                raise InputError(f"{where}.line_number: expected a line number; {fix}")
            known.add((filename, kind, hashed))
    return frozenset(known)


def _check_plugins(plugins: list[dict[str, Any]], path: str, fix: str) -> None:
    """Name unknown plugins here: detect-secrets only logs them and raises a bare TypeError."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    known = {cls.__name__ for cls in classes}
    for i, plugin in enumerate(plugins):
        if plugin["name"] not in known and "path" not in plugin:  # `path`: a custom plugin file
            raise InputError(
                f"{path}: $.plugins_used[{i}].name: unknown plugin {plugin['name']!r} "
                f"(known: {', '.join(sorted(known))}); {fix}"
            )


def _check_list(data: Mapping[str, Any], key: str, field: str, path: str, fix: str) -> None:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"{path}: $.{key}: expected a list; {fix}")
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get(field), str):
            raise InputError(f"{path}: $.{key}[{i}].{field}: expected a string; {fix}")
