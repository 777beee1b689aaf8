"""The patch SLA (days to ship a fix, by severity), read from the project's patch-policy document.

The document states its targets in YAML front matter (docs/patch-policy.md):

    ---
    patch_sla_days: {critical: 30, high: 60, medium: 90, low: 180}
    ---
    # Patch policy

There is no built-in default: a process whose targets nobody wrote down cannot be measured
against them, so without them the issues evidence is incomplete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded

DOCUMENT = "docs/patch-policy.md"
REQUIRED = ("critical", "high", "medium", "low")
SEVERITIES = (*REQUIRED, "none")
KEY = "patch_sla_days"


@dataclass(frozen=True)
class Sla:
    """Target days by severity, and the document that states them."""

    days: Mapping[str, int]
    source: str


def document(config: Mapping[str, Any]) -> str:
    """The patch-policy document's path (relative to the repository root)."""
    if KEY in config:
        raise InputError(
            f"[collectors.issues] {KEY}: the patch SLA is stated in the patch-policy document, "
            f"not in the configuration: move it to the front matter of {DOCUMENT} "
            "(format in docs/collectors/issues.md) and remove it here"
        )
    value = config.get("patch_policy", DOCUMENT)
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"[collectors.issues] patch_policy: expected the path of the patch-policy document, "
            f"got {value!r}"
        )
    return value


def read(root: Path, path: str) -> Sla | str:
    """The SLA the document states, or why there is none (the evidence is then incomplete).

    A front matter that is there but malformed is an InputError naming the file and line.
    """
    file = root / path
    if not file.is_file():
        return (
            f"no patch-policy document at {path}, so no patch SLA to measure fixes against: "
            f"write it with front matter `{KEY}: {{critical: 30, high: 60, medium: 90, "
            "low: 180}` (your own targets) and commit it"
        )
    try:
        text = bounded.read(file, "issues").decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{file}: cannot read: {e}") from e
    front = _front_matter(file, text)
    if front is None or KEY not in front:
        return (
            f"{path} states no patch SLA: add front matter `---` / `{KEY}: {{critical: 30, "
            "high: 60, medium: 90, low: 180}` / `---` at its top (your own targets)"
        )
    return Sla(days=_days(file, front[KEY]), source=path)


def _front_matter(file: Path, text: str) -> dict[str, Any] | None:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise InputError(
            f"{file}: line 1: front matter opened with `---` is never closed: add a `---` line "
            "after it"
        ) from None
    try:
        data = bounded.yaml_load("\n".join(lines[1:end]), str(file), "issues")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 2}" if mark else "front matter"
        raise InputError(f"{file}: {place}: front matter is not valid YAML") from e
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InputError(f"{file}: front matter: expected a mapping, got {type(data).__name__}")
    return data


def _days(file: Path, value: Any) -> dict[str, int]:
    expected = (
        f"expected days by severity, {', '.join(REQUIRED)} required and none optional, "
        "each a whole number above 0"
    )
    if not isinstance(value, dict):
        raise InputError(f"{file}: front matter {KEY}: {expected}, got {value!r}")
    for severity, days in value.items():
        if severity not in SEVERITIES:
            raise InputError(
                f"{file}: front matter {KEY}.{severity}: unknown severity ({expected})"
            )
        if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
            raise InputError(f"{file}: front matter {KEY}.{severity}: {expected}, got {days!r}")
    absent = [s for s in REQUIRED if s not in value]
    if absent:
        raise InputError(f"{file}: front matter {KEY}: {', '.join(absent)} missing ({expected})")
    return dict(value)
