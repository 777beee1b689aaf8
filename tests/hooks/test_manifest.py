"""`.pre-commit-hooks.yaml`: valid for pre-commit, documented, and backed by console scripts."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import yaml
from pre_commit.clientlib import load_manifest

from .conftest import TRY_REPO
from .framework import Run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
HOOKS = yaml.safe_load(MANIFEST.read_text())
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
CURRENT_STAGES = {"pre-commit", "commit-msg", "post-commit", "pre-push"}


def test_pre_commit_accepts_the_manifest() -> None:
    assert [h["id"] for h in load_manifest(str(MANIFEST))] == [h["id"] for h in HOOKS]


def test_the_seven_hooks() -> None:
    assert [h["id"] for h in HOOKS] == [
        "sdl-secrets",
        "sdl-bandit",
        "sdl-threat-model",
        "sdl-sbom",
        "sdl-commit-msg",
        "sdl-record",
        "sdl-gate",
    ]


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_every_hook_is_documented_and_installed(hook: dict[str, object]) -> None:
    hook_id = str(hook["id"])
    for page in ("README.md", "docs/hooks.md"):
        assert f"`{hook_id}`" in (REPO / page).read_text(), f"{page} lacks {hook_id}"
    assert f"\n## `{hook_id}`\n" in (REPO / "docs/hooks.md").read_text(), f"no section {hook_id}"
    assert hook["entry"] == hook_id and hook["language"] == "python"
    assert hook["minimum_pre_commit_version"] == "3.2.0"
    assert set(hook["stages"]) <= CURRENT_STAGES  # type: ignore[arg-type]
    module, _, function = SCRIPTS[hook_id].partition(":")
    assert function == "main"
    assert callable(importlib.import_module(module).main)
    if hook["stages"] in (["post-commit"], ["pre-push"]):
        assert hook["always_run"] is True and hook["pass_filenames"] is False


def test_try_repo_gives_every_hook_the_verdict_of_the_shared_store_runs(
    framework_runs: dict[str, Run],
) -> None:
    """The scenarios run with `pre-commit run -c` and one shared store (framework.py); a user
    trying our hooks runs `pre-commit try-repo`. On the same (failing) scenario both must give
    every hook the same verdict, and the failing hooks must really fail."""
    shared, tried = framework_runs[TRY_REPO], framework_runs[f"try-repo:{TRY_REPO}"]
    ran = [h["id"] for h in HOOKS if f"- hook id: {h['id']}" in shared.output.splitlines()]
    assert {"sdl-secrets", "sdl-bandit", "sdl-threat-model", "sdl-sbom"} <= set(ran)
    assert {h: tried.status(h) for h in ran} == {h: shared.status(h) for h in ran}, tried.output
    assert "Failed" in {shared.status(h) for h in ran}
    assert (tried.returncode, shared.returncode) == (1, 1)
