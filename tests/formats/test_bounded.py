"""Hostile input against every reader of outside data: alias bombs, deep nesting, huge files,
DTDs, FIFOs. Each breach is a LimitError (exit 2) naming the file and the limit, fast."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sdl_tracker import config
from sdl_tracker.collectors.deps import osv, pipaudit, vex
from sdl_tracker.errors import ConfigError, InputError, PolicyError
from sdl_tracker.formats import bounded, junit, scanreport, threatmodel, yamlcount
from sdl_tracker.formats.bounded import LimitError, Limits
from sdl_tracker.formats.sbom import document
from sdl_tracker.formats.threatmodel import requirements
from sdl_tracker.policy import load as policy_mod

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
DEEP_YAML = "[" * 100_000 + "]" * 100_000


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    bounded.use(Limits())
    yield
    bounded.use(Limits())


def _refused(call: Callable[[], Any], *needles: str, limit: bool = True) -> str:
    """`call` raises quickly an InputError (a LimitError when `limit`) holding every needle."""
    started = time.monotonic()
    with pytest.raises((InputError, PolicyError)) as caught:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 or not limit, f"took {elapsed:.2f}s"
    message = str(caught.value)
    assert isinstance(caught.value, LimitError) == limit, message
    for needle in needles:
        assert needle in message, message
    return message


def _bomb_in(prefix: str, key_line: str, indent: str) -> str:
    """BOMB's anchors under `prefix`, then `key_line` using the last alias."""
    anchors = "".join(f"{indent}{line}\n" for line in BOMB.splitlines())
    return prefix + anchors + key_line


def test_policy_alias_bomb_in_any_of_is_refused_at_once(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "policy: bomb\nextends: iec62443-4-1\nx-anchors:\n"
        + "".join(f"  {line}\n" for line in BOMB.splitlines())
        + "requirements:\n  SI-2:\n    requires: {any_of: *i}\n"
    )
    _refused(lambda: policy_mod.load(policy), "policy.yaml", "yaml_nodes", "alias bomb")


def test_native_threat_model_alias_bomb_in_asset_name_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "threat-model.yaml"
    model.write_text(
        _bomb_in("x-anchors:\n", "assets:\n  - id: A1\n    name: *i\n", "  "), encoding="utf-8"
    )
    _refused(lambda: threatmodel.read(model, "threat-model.yaml"), "threat-model.yaml", "[limits]")


@pytest.mark.parametrize("text", [DEEP_JSON, DEEP_OBJECT])
def test_deep_json_is_refused_by_every_json_reader(tmp_path: Path, text: str) -> None:
    raw = text.encode()
    model = tmp_path / "deep.threatdragon.json"
    model.write_bytes(raw)
    readers: list[Callable[[], Any]] = [
        lambda: threatmodel.read(model, "deep.threatdragon.json"),
        lambda: scanreport.parse(raw, "deep.sarif"),
        lambda: document.validate(raw, "deep.cdx.json"),
        lambda: pipaudit.parse(raw, "deep-audit.json"),
        lambda: vex.load([("deep.vex.json", raw)]),
        lambda: requirements.load("deep-requirements.json", raw),
    ]
    for read in readers:
        _refused(read, "deep", "nested deeper than 64 levels", "depth = ...")


def test_deep_json_within_python_recursion_but_over_the_limit_is_refused() -> None:
    text = "[" * 65 + "]" * 65
    _refused(lambda: bounded.json_loads(text, "r.json", "report"), "r.json", "64")
    assert bounded.json_loads("[" * 64 + "]" * 64, "r.json", "report") is not None


def test_deep_yaml_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    model = tmp_path / "threat-model.yaml"
    model.write_text(DEEP_YAML)
    _refused(lambda: threatmodel.read(model, "threat-model.yaml"), "nested deeper")
    policy = tmp_path / "policy.yaml"
    policy.write_text("policy: deep\nx: " + DEEP_YAML + "\n")
    _refused(lambda: policy_mod.load(policy), "policy.yaml", "nested deeper")
    block = "".join(" " * i + "- \n" for i in range(70)) + " " * 70 + "x\n"
    _refused(lambda: bounded.yaml_load(block, "b.yaml", "issues"), "b.yaml", "nested deeper")


def test_osv_record_in_yaml_with_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    record = tmp_path / "PYSEC-1.yaml"
    record.write_text(_bomb_in("x:\n", "affected: *i\nid: PYSEC-1\n", "  "))
    _refused(lambda: osv.parse(record), "PYSEC-1.yaml", "yaml_nodes")


def test_aliases_in_ordinary_documents_still_work() -> None:
    value = bounded.yaml_load("a: &x {b: [1, 2]}\nc: *x\n", "ok.yaml", "issues")
    assert value == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}}


def test_alias_expansion_counts_toward_the_depth() -> None:
    nested = "[" * 40 + "1" + "]" * 40
    text = f"a: &x {nested}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[*x]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
    _refused(lambda: bounded.yaml_load(text, "a.yaml", "issues"), "nested deeper")


def test_deep_junit_and_cyclonedx_xml_are_refused(tmp_path: Path) -> None:
    deep = b"<testsuites>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</testsuites>"
    _refused(lambda: junit.parse("deep.xml", deep), "deep.xml", "nested deeper")
    bom = b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5">' + b"<a>" * 100_000
    bom += b"</a>" * 100_000 + b"</bom>"
    _refused(lambda: document.validate(bom, "deep.cdx.xml"), "deep.cdx.xml", "nested deeper")


def test_cyclonedx_xml_with_a_dtd_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>\n'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><x>&b;</x></bom>'
    )
    _refused(lambda: document.validate(laughs, "laughs.cdx.xml"), "laughs.cdx.xml", "DTD")


def test_size_limit_per_kind_and_the_config_key_that_raises_it(git_repo: Path) -> None:
    report = git_repo / "bandit.json"
    report.write_text(json.dumps({"results": [], "errors": [], "pad": "x" * 4096}))
    (git_repo / ".sdl-tracker.toml").write_text('[limits]\nreport = "4 KiB"\n')
    config.load(git_repo)
    message = _refused(lambda: bounded.read(report, "report"), "bandit.json", "4 KiB")
    assert "report = ..." in message and "[limits]" in message
    (git_repo / ".sdl-tracker.toml").write_text('[limits]\nreport = "1 MiB"\ndepth = 200\n')
    config.load(git_repo)
    assert bounded.read(report, "report").startswith(b"{")
    assert bounded.json_loads("[" * 150 + "]" * 150, "r.json", "report") is not None


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('[limits]\nreprot = "1 MiB"\n', "[limits] unknown key 'reprot': did you mean 'report'?"),
        ('[limits]\nreport = "lots"\n', "limits.report must be a size"),
        ("[limits]\ndepth = 0\n", "limits.depth must be a positive whole number"),
        ("[limits]\ndepth = 5000\n", "limits.depth must be at most 1000"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    ],
)
def test_bad_limits_and_a_deep_config_are_config_errors(
    git_repo: Path, table: str, needle: str
) -> None:
    (git_repo / ".sdl-tracker.toml").write_text(table)
    with pytest.raises(ConfigError, match=re.escape(needle)):
        config.load(git_repo)


def test_a_fifo_or_a_directory_given_as_a_report_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    _refused(lambda: bounded.read(fifo, "report"), "report.json", "FIFO", limit=False)
    _refused(lambda: bounded.read(tmp_path, "report"), "a directory", limit=False)


def test_a_policy_extending_a_secrets_file_never_shows_its_content(tmp_path: Path) -> None:
    secrets = {
        ".env": "AWS_SECRET_ACCESS_KEY=abc123supersecret\nDB_PASSWORD=hunter2\n",
        "one-line.env": "TOKEN=hunter2\n",
        "list.yaml": "- password: hunter2\n",
        "quoted.yaml": '"hunter2 hunter2"\n',
    }
    for name, body in secrets.items():
        (tmp_path / name).write_text(body)
        policy = tmp_path / f"{name}.policy.yaml"
        policy.write_text(f"policy: mine\nextends: {name}\n")
        message = _refused(lambda p=policy: policy_mod.load(p), name, "not a policy", limit=False)
        assert "hunter2" not in message and "supersecret" not in message


def test_a_policy_error_quotes_at_most_one_short_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "policy: mine\nextends: iec62443-4-1\nmax_age_days: >\n  secret line one\n"
        "  secret line two\n"
    )
    message = _refused(lambda: policy_mod.load(policy), "policy.yaml:3", "not shown", limit=False)
    assert "secret" not in message


@pytest.mark.parametrize("text", [BOMB, "[" * 200, "[" * 65 + "]" * 65])
def test_without_libyaml_the_python_composer_counts_too(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr(yamlcount.yaml, "__with_libyaml__", False)
    _refused(lambda: bounded.yaml_compose(text, "slow.yaml", "policy"), "slow.yaml", "[limits]")
    value = bounded.yaml_load("a: &x {b: [1, 2]}\nc: *x\n", "ok.yaml", "issues")
    assert value == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}}


def test_forge_review_export_nested_too_deep_is_refused(tmp_path: Path) -> None:
    from sdl_tracker.gitdata import forge

    export = tmp_path / "12.json"
    export.write_text(DEEP_JSON)
    _refused(lambda: forge._json(export), "12.json", "nested deeper")
    export.write_text("[" * 65 + "]" * 65)
    _refused(lambda: forge._json(export), "12.json", "nested deeper than 64")


@pytest.mark.parametrize(
    "body", ['{"password": "hunter2", "token": "hunter2"}', '["hunter2"]', '"hunter2"']
)
def test_a_json_file_that_is_no_report_is_never_quoted(body: str) -> None:
    message = _refused(
        lambda: scanreport.parse(body.encode(), "creds.json"), "creds.json", limit=False
    )
    assert "hunter2" not in message and "content not shown" in message


def test_an_impossible_date_is_a_yaml_error_at_its_line_not_a_crash() -> None:
    import yaml

    text = "id: SEC-1\nreceived: 2024-13-01\n"
    with pytest.raises(yaml.YAMLError) as caught:
        bounded.yaml_load(text, "SEC-1.yaml", "issues")
    mark = getattr(caught.value, "problem_mark", None)
    assert mark is not None and mark.line + 1 == 2
    assert "'2024-13-01' is not a valid timestamp (month must be in 1..12)" in str(caught.value)
