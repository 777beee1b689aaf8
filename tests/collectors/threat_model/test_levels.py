"""SR-4: a capability security level stated for each zone and external interface of the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker.cli.main import main
from sdl_tracker.formats import threatmodel
from sdl_tracker.formats.threatmodel import levels

DATA = Path(__file__).resolve().parents[2] / "data" / "threatmodel"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # native: the boundary, and the flow that says it crosses it
        ("threat-model.yaml", ["TB-1", "DF-1"]),
        # the other formats: zones first, then flows crossing them (their own tests say which)
        ("updater.pytm.json", None),
        ("updater.threagile.yaml", None),
        ("app.threatdragon.json", None),
    ],
)
def test_zones_and_interfaces_of_every_format(name: str, expected: list[str] | None) -> None:
    model, _ = threatmodel.read(DATA / name, name)
    found = [ident for ident, _ in levels.needing(model)]
    zones = [b.id for b in model.trust_boundaries]
    assert found[: len(zones)] == zones  # every zone needs a level
    flows = {f.id for f in model.data_flows}
    assert set(found[len(zones) :]) <= flows
    if expected is not None:
        assert found == expected


def _repo(root: Path, files: dict[str, str]) -> None:
    for name in ("threat-model.yaml", "security-requirements.yaml"):
        shutil.copy(DATA / name, root / name)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "model")


def _sr4(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["collect", "--only", "threat-model", "--repo", str(root)]) == 0
    assert main(["status", "--repo", str(root), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)["requirements"]
    return next(r for r in found if r["id"] == "SR-4")


def test_partial_names_what_has_no_level_until_the_document_states_it(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo), "--templates"]) == 0
    template = (git_repo / levels.DOCUMENT).read_text()
    assert template.startswith("---\n") and "security_levels: {}" in template
    _repo(git_repo, {})
    sr4 = _sr4(git_repo, capsys)
    assert sr4["status"] == "partial", sr4["reason"]
    assert (
        "2 without level: zone TB-1 (Plant network / vendor cloud); interface DF-1"
        in (sr4["reason"])
    )
    assert "security_levels:" in sr4["action"] and "collect --only threat-model" in sr4["action"]

    # the front matter of the document init wrote states one of them: the other is still named
    (git_repo / levels.DOCUMENT).write_text(
        template.replace("security_levels: {}", "security_levels:\n  TB-1: {sl_c: 2, sl_t: 3}")
    )
    _repo(git_repo, {})
    sr4 = _sr4(git_repo, capsys)
    assert "1 without level: interface DF-1" in sr4["reason"]
    assert "zone TB-1" not in sr4["reason"]

    # security-requirements.yaml states both: nothing is left without a level
    text = (DATA / "security-requirements.yaml").read_text()
    text = text.replace(
        "requirements:", "security_levels: {TB-1: 2, DF-1: {sl_t: 2}}\nrequirements:", 1
    )
    _repo(git_repo, {"security-requirements.yaml": text})
    sr4 = _sr4(git_repo, capsys)
    assert "without level" not in sr4["reason"], sr4["reason"]


@pytest.mark.parametrize(
    ("block", "words"),
    [
        (
            "security_levels: {TB-1: 5}",
            "security_levels.TB-1.sl_c: expected a security level 1 to 4",
        ),
        ("security_levels: {TB-1: {sl_x: 2}}", "security_levels.TB-1: expected a level 1-4"),
        ("security_levels: [TB-1]", "security_levels: expected a mapping"),
    ],
)
def test_a_malformed_level_exits_2_naming_the_file_and_id(
    git_repo: Path, capsys: pytest.CaptureFixture[str], block: str, words: str
) -> None:
    _repo(git_repo, {levels.DOCUMENT: f"---\n{block}\n---\n# Security requirements\n"})
    assert main(["init", "--repo", str(git_repo)]) == 0
    capsys.readouterr()
    assert main(["collect", "--only", "threat-model", "--repo", str(git_repo)]) == 2
    err = capsys.readouterr().err
    assert f"{levels.DOCUMENT}: {words}" in err


def _svv3(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["collect", "--only", "threat-model", "--repo", str(root)]) == 0
    assert main(["status", "--repo", str(root), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)["requirements"]
    return next(r for r in found if r["id"] == "SVV-3")


def test_the_attack_surface_lists_every_interface_crossing_a_boundary(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--repo", str(git_repo)]) == 0
    _repo(git_repo, {})
    svv3 = _svv3(git_repo, capsys)
    assert "1 not in attack surface: interface DF-1 (C-2 -> C-1)" in svv3["reason"]
    assert "docs/attack-surface.md" in svv3["action"]
    # an id is matched as a word: DF-10 is not DF-1
    _repo(git_repo, {levels.ATTACK_SURFACE: "# Attack surface\n\n- DF-10: the update server\n"})
    assert "not in attack surface: interface DF-1" in _svv3(git_repo, capsys)["reason"]
    _repo(git_repo, {levels.ATTACK_SURFACE: "# Attack surface\n\n| DF-1 | firmware upload |\n"})
    svv3 = _svv3(git_repo, capsys)
    assert "not in attack surface" not in svv3["reason"]
    assert "threat_model: entry" in svv3["reason"]  # the part is met by the threat model entry
