from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

DATA = Path(__file__).resolve().parents[1] / "data" / "threatmodel"
SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"
MODEL = (DATA / "threat-model.yaml").read_text()
REQS = (DATA / "security-requirements.yaml").read_text()


def counts(metrics: dict) -> dict:  # type: ignore[type-arg]
    """The threat counts among the metrics."""
    return {k: metrics[k] for k in ("threats", "mitigated", "accepted", "open")}


def _when(days_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _commit(repo: Path, files: dict[str, str], message: str, *, days_ago: float = 1) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    when = _when(days_ago)
    git(
        repo,
        "commit",
        "-q",
        "-m",
        message,
        env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
    )
    return git(repo, "rev-parse", "HEAD")


def _collect(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    capsys.readouterr()
    args = ["collect", "--only", "threat-model", "--repo", str(repo), "--format", "json", *extra]
    assert main(args) == 0, capsys.readouterr().err
    return [e["statement"] for e in json.loads(capsys.readouterr().out)]


def _config(repo: Path, table: str) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write(f"\n[collectors.threat-model]\n{table}\n")


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    _commit(
        git_repo,
        {"src/agent/install.py": "x = 1\n", "src/server/app.py": "y = 1\n", "docs/x.md": "a\n"},
        "code",
        days_ago=3,
    )
    return git_repo


def test_a_current_complete_model_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"threat-model.yaml": MODEL, "security-requirements.yaml": REQS}, "model")
    (st,) = _collect(repo, capsys)
    p = st["predicate"]
    assert (p["kind"], p["collector"], p["requirements"]) == (
        "threat_model",
        "threat-model",
        ["SR-2", "SR-4", "SD-1", "SD-2", "SVV-2"],
    )
    assert p["result"]["status"] == "pass", p["result"]["summary"]
    assert p["result"]["metrics"] == {
        "threats": 3,
        "mitigated": 2,
        "accepted": 1,
        "open": 0,
        "security_requirements": 2,
        "layered": 0,
        # SR-4: the zone TB-1 and the flow DF-1 crossing it, no level stated for either
        "zones_and_interfaces": 2,
        "without_level": 2,
        "interfaces": 1,
    }
    assert p["result"]["summary"].startswith(
        "threat-model.yaml (native): 3 threats, 2 mitigated, 1 accepted, 0 open; every mitigation"
    )
    assert p["covers"] == [
        "threat-model.yaml",
        "src/agent/**",
        "src/server/**",
        "deploy/server.yaml",
    ]
    assert p["details"]["age_days"] == 1
    # The original bytes and the normalised JSON are stored in the ledger.
    names = {s["name"]: s["digest"]["sha256"] for s in st["subject"] if s["name"] != "commit"}
    store = GitStore(repo)
    assert store.read_object(names["threat-model.yaml"]) == MODEL.encode()
    normalised = json.loads(store.read_object(names["threat-model.yaml.normalised.json"]) or b"")
    assert normalised["threats"][0] == {
        "id": "T-001",
        "title": "Forged firmware image installed",
        "category": "tampering",
        "status": "mitigated",
        "targets": ["C-1", "DF-1"],
        "likelihood": "medium",
        "impact": "critical",
        "description": "",
    }


def test_owned_file_changed_after_the_model_is_stale(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_commit = _commit(repo, {"threat-model.yaml": MODEL}, "model", days_ago=2)
    _commit(repo, {"src/agent/install.py": "x = 2\n", "docs/x.md": "b\n"}, "change agent")
    (st,) = _collect(repo, capsys)
    result = st["predicate"]["result"]
    assert result["status"] == "fail"
    assert (
        f"stale: 1 owned file(s) changed after the model's last commit {model_commit[:12]}: "
        "src/agent/install.py"
    ) in result["summary"]
    assert st["predicate"]["details"]["stale_files"] == ["src/agent/install.py"]
    # Updating the model makes it current again.
    _commit(repo, {"threat-model.yaml": MODEL + "# reviewed\n"}, "model reviewed", days_ago=0)
    (st,) = _collect(repo, capsys)
    assert st["predicate"]["result"]["status"] == "pass"


def test_a_justified_unchanged_model_is_not_made_stale(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A commit saying `Threat-Model: unchanged <reason>` (what sdl-commit-msg asks for) does
    not make the model stale; one without it does."""
    _commit(repo, {"threat-model.yaml": MODEL}, "model", days_ago=2)
    _commit(
        repo,
        {"src/agent/install.py": "x = 2\n"},
        "rename a variable\n\nThreat-Model: unchanged, a refactoring with no new data flow",
    )
    (st,) = _collect(repo, capsys)
    assert st["predicate"]["result"]["status"] == "pass", st["predicate"]["result"]["summary"]
    _commit(repo, {"src/agent/net.py": "y = 1\n"}, "open a socket")
    (st,) = _collect(repo, capsys)
    assert st["predicate"]["details"]["stale_files"] == ["src/agent/net.py"]


def test_an_old_model_is_stale(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"threat-model.yaml": MODEL}, "model", days_ago=400)
    (st,) = _collect(repo, capsys)
    assert st["predicate"]["result"]["status"] == "fail"
    assert "400 days ago (maximum 365)" in st["predicate"]["result"]["summary"]
    _config(repo, "max_age_days = 500")
    (st,) = _collect(repo, capsys, "--force")
    assert st["predicate"]["result"]["status"] == "pass"


def test_open_threats_and_untested_mitigations_fail(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MODEL.replace("    status: mitigated\n", "    status: open\n", 1).replace(
        '    tests: ["tests/test_agent.py::test_rejects_unknown_server"]\n', ""
    )
    _commit(repo, {"threat-model.yaml": text}, "model")
    (st,) = _collect(repo, capsys)
    result = st["predicate"]["result"]
    assert result["status"] == "fail"
    assert result["metrics"] == {
        "threats": 3,
        "mitigated": 1,
        "accepted": 1,
        "open": 1,
        "security_requirements": 0,
        "layered": 0,
        "zones_and_interfaces": 2,
        "without_level": 2,
        "interfaces": 1,
    }
    assert "1 open: T-001" in result["summary"]
    assert "1 mitigation(s) name no test: M-002" in result["summary"]


def test_malformed_model_appends_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"threat-model.yaml": MODEL.replace("stride: tampering", "stride: tamper")}, "m")
    before = len(list(ledger.entries(GitStore(repo))))
    capsys.readouterr()
    assert main(["collect", "--only", "threat-model", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "error: threat-model.yaml:39: $.threats[0].stride: 'tamper' is not one of" in err
    assert "Traceback" not in err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_malformed_threat_dragon_sample_appends_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = SAMPLES / "threat-dragon" / "v2-malformed-new-model.json"
    if not sample.is_file():
        pytest.skip(f"sample not available at {SAMPLES}")
    before = len(list(ledger.entries(GitStore(repo))))
    capsys.readouterr()
    args = ["collect", "--only", "threat-model", "--repo", str(repo), "--from-report", str(sample)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"error: {sample}:3: $.summary.title: expected the model title" in err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_real_threat_dragon_sample_from_report(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sample = SAMPLES / "threat-dragon" / "v2-threat-model.json"
    if not sample.is_file():
        pytest.skip(f"sample not available at {SAMPLES}")
    (st,) = _collect(repo, capsys, "--from-report", str(sample))
    p = st["predicate"]
    assert counts(p["result"]["metrics"]) == {
        "threats": 14,
        "mitigated": 4,
        "accepted": 0,
        "open": 10,
    }
    assert p["result"]["status"] == "fail"
    assert "4 mitigation(s) name no test" in p["result"]["summary"]
    assert "outside the repository" in p["result"]["summary"]
    assert p["covers"] == []


def test_imported_model_in_the_repository_with_owned_paths_from_config(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(
        repo,
        'paths = ["models/*.json", "missing.yaml"]\n'
        'owns = { "models/app.threatdragon.json" = ["src/agent/**"] }',
    )
    (repo / "models").mkdir()
    shutil.copy(DATA / "app.threatdragon.json", repo / "models" / "app.threatdragon.json")
    shutil.copy(DATA / "updater.pytm.json", repo / "models" / "updater.pytm.json")
    git(repo, "add", "models")
    _commit(repo, {}, "models", days_ago=2)
    _commit(repo, {"src/agent/install.py": "x = 3\n"}, "agent change")
    missing, dragon, pytm = _collect(repo, capsys)
    assert missing["predicate"]["result"]["status"] == "incomplete"
    assert (
        "no threat model at the configured path(s) missing.yaml"
        in (missing["predicate"]["result"]["summary"])
    )
    d = dragon["predicate"]
    assert d["details"]["format"] == "threat-dragon"
    assert counts(d["result"]["metrics"]) == {
        "threats": 5,
        "mitigated": 2,
        "accepted": 2,
        "open": 1,
    }
    assert "src/agent/install.py" in d["result"]["summary"]  # stale through the configured owns
    assert d["covers"] == ["models/app.threatdragon.json", "src/agent/**"]
    p = pytm["predicate"]
    assert p["details"]["format"] == "pytm"
    assert counts(p["result"]["metrics"]) == {
        "threats": 4,
        "mitigated": 1,
        "accepted": 2,
        "open": 1,
    }
    # pytm elements' sourceFiles are owned paths too.
    assert p["details"]["stale_files"] == ["src/agent/install.py"]


def test_no_model_is_incomplete(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (st,) = _collect(repo, capsys)
    result = st["predicate"]["result"]
    assert result["status"] == "incomplete"
    assert result["summary"].startswith("no threat model found (looked for threat-model.yaml,")


def test_uncommitted_model_is_incomplete(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "threat-model.yaml").write_text(MODEL)
    (st,) = _collect(repo, capsys)
    assert st["predicate"]["result"]["status"] == "incomplete"
    assert "the file is not committed" in st["predicate"]["result"]["summary"]


def test_unchanged_inputs_are_reaffirmed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _commit(repo, {"threat-model.yaml": MODEL}, "model")
    (first,) = _collect(repo, capsys)
    (second,) = _collect(repo, capsys)
    assert second["predicate"]["result"]["summary"].startswith("reaffirmed: ")
    assert second["predicate"]["details"]["reaffirms"] >= 1


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("colour = 1", "[collectors.threat-model] unknown key 'colour'"),
        ('paths = "threat-model.yaml"', "[collectors.threat-model] paths: expected a list"),
        ('paths = ["../elsewhere.yaml"]', "[collectors.threat-model] paths: expected a list"),
        ("max_age_days = 0", "max_age_days: expected a positive number of days"),
        ('owns = ["src"]', "owns: expected a table of model path -> list of globs"),
    ],
)
def test_bad_configuration_is_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], table: str, expected: str
) -> None:
    _config(repo, table)
    capsys.readouterr()
    assert main(["collect", "--only", "threat-model", "--repo", str(repo)]) == 2
    assert expected in capsys.readouterr().err


def test_a_split_threagile_model_is_stored_with_the_files_it_includes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    split = DATA / "threagile"
    files = {
        f"tm/{p.relative_to(split).as_posix()}": p.read_text()
        for p in sorted(split.rglob("*.yaml"))
    }
    _commit(repo, files, "model")
    _config(repo, 'paths = ["tm/main.yaml"]')
    (st,) = _collect(repo, capsys)
    included = ["tm/inc/assets.yaml", "tm/inc/sub/more.yaml", "tm/inc/risks.yaml"]
    assert [s["name"] for s in st["subject"] if s["name"] != "commit"] == [
        "tm/main.yaml",
        *included,
        "tm/main.yaml.normalised.json",
    ]
    assert st["predicate"]["covers"][:4] == ["tm/main.yaml", *included]


def test_requirements_content_and_defence_in_depth(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SR-4 counts the security requirements (each states its target SL-C); SD-2 the threats
    countered by more than one mitigation."""
    second = MODEL.replace(
        "accepted_risks:",
        "  - id: M-003\n    title: Run the installer unprivileged\n    threats: [T-001]\n"
        '    tests: ["tests/test_agent.py::test_unprivileged"]\naccepted_risks:',
    )
    _commit(repo, {"threat-model.yaml": second}, "model without requirements file")
    (st,) = _collect(repo, capsys)
    m = st["predicate"]["result"]["metrics"]
    assert (m["security_requirements"], m["layered"]) == (0, 1)
    _commit(repo, {"security-requirements.yaml": REQS}, "requirements")
    (st,) = _collect(repo, capsys)
    m = st["predicate"]["result"]["metrics"]
    assert (m["security_requirements"], m["layered"]) == (2, 1)
