"""The fuzzing collector on real fuzzer output: atheris runs made here by the test (a clean run, a
crash, an uninstrumented target), and libFuzzer (clang) and AFL++ outputs made by
tests/data/fuzzing/make.sh, ingested with `collect --from-report` and judged by SVV-3."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from evidence_factory import only, policy_file
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.ledger import GitStore

DATA = Path(__file__).resolve().parents[1] / "data" / "fuzzing"
TARGET = "fuzz/fuzz_frames.py"
HARNESS = """\
import sys

import atheris


@atheris.instrument_func
def read_frame(data):
    if len(data) >= 2 and data[0] == 0x4D and data[1] == 0x42:
        {bug}
    return len(data)


atheris.Setup(sys.argv, read_frame)
atheris.Fuzz()
"""
CLEAN = HARNESS.format(bug="return 0")
CRASH = HARNESS.format(bug='raise RuntimeError("unhandled frame")')
BLIND = CLEAN.replace("@atheris.instrument_func\n", "")
SHORT = "[collectors.fuzzing]\nmin_seconds = 0\nmin_executions = 1000\n"


def _atheris() -> None:
    if importlib.util.find_spec("atheris") is not None:
        return
    message = "atheris is not installed (a test extra on Linux x86-64, Python 3.11+)"
    wanted = (
        sys.platform == "linux" and platform.machine() == "x86_64" and sys.version_info >= (3, 11)
    )
    if os.environ.get("CI") == "true" and wanted:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def atheris_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """name -> (the log of a real atheris run, its artifact directory), fixed seed."""
    _atheris()
    runs = {}
    for name, source, runs_flag in (
        ("clean", CLEAN, "-runs=3000"),
        ("crash", CRASH, "-runs=500000"),
        ("blind", BLIND, "-runs=3000"),
    ):
        work = tmp_path_factory.mktemp(name)
        (work / "harness.py").write_text(source)
        (work / "artifacts").mkdir()
        with (work / "fuzz.log").open("wb") as log:  # as `… >fuzz.log 2>&1` keeps it
            subprocess.run(
                [sys.executable, "harness.py", runs_flag, "-seed=1", "-print_final_stats=1"]
                + ["-artifact_prefix=artifacts/"],
                cwd=work,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=120,
            )
        runs[name] = (work / "fuzz.log", work / "artifacts")
    return runs


@pytest.fixture
def repo(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (git_repo / "fuzz").mkdir()
    (git_repo / TARGET).write_text(CLEAN)
    (git_repo / "fuzz" / "modbus_frame.c").write_bytes((DATA / "modbus_frame.c").read_bytes())
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "fuzz harnesses")
    assert main(["init", "--repo", str(git_repo)]) == 0
    capsys.readouterr()
    return git_repo


def _configure(repo: Path, text: str) -> None:
    with (repo / ".sdl-tracker.toml").open("a") as f:
        f.write("\n" + text)


def _collect(
    repo: Path, report: Path, capsys: pytest.CaptureFixture[str], target: str = TARGET
) -> dict:  # type: ignore[type-arg]
    """The predicate of the one entry `collect --only fuzzing` appended."""
    capsys.readouterr()
    args = ["collect", "--only", "fuzzing", "--repo", str(repo), "--format", "json"]
    code = main([*args, "--from-report", str(report), "--fuzz-target", target])
    assert code == 0, capsys.readouterr().err
    (entry,) = json.loads(capsys.readouterr().out)
    return entry["statement"]["predicate"]  # type: ignore[no-any-return]


def test_a_real_atheris_run_is_ingested_with_its_digest_and_target(
    repo: Path, atheris_runs: dict[str, tuple[Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    log, _ = atheris_runs["clean"]
    _configure(repo, SHORT)
    p = _collect(repo, log, capsys)
    assert p["result"]["status"] == "pass", p["result"]["summary"]
    assert p["provenance"] == "ingested"
    assert p["requirements"] == ["SVV-3"] and p["covers"] == [TARGET]
    assert p["tool"]["name"] == "atheris"
    assert p["inputs"]["report"] == "sha256:" + hashlib.sha256(log.read_bytes()).hexdigest()
    metrics = p["result"]["metrics"]
    assert metrics["executions"] == 3000 and metrics["crashes"] == 0
    assert metrics["coverage"] > 0
    assert p["details"]["target"] == TARGET and p["details"]["seed"] == "1"
    assert p["result"]["summary"].startswith(f"atheris fuzzed {TARGET}: 3,000 executions in ")
    (st,) = [e.statement() for e in ledger.entries(GitStore(repo))][-1:]
    (artifact,) = st.artifacts
    assert artifact.name == "fuzz.log"


def test_a_run_of_a_few_seconds_is_not_fuzzing_by_default(
    repo: Path, atheris_runs: dict[str, tuple[Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    p = _collect(repo, atheris_runs["clean"][0], capsys)
    assert p["result"]["status"] == "incomplete"
    assert (
        "too short to count as fuzzing (at least 600 s and 10000 executions count: "
        "[collectors.fuzzing] min_seconds, min_executions): fuzz longer, e.g. "
        "-max_total_time=600"
    ) in p["result"]["summary"]


def test_a_crash_atheris_found_fails_named_by_its_saved_input(
    repo: Path, atheris_runs: dict[str, tuple[Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    log, artifacts = atheris_runs["crash"]
    (saved,) = artifacts.iterdir()
    assert saved.name == "crash-" + hashlib.sha1(saved.read_bytes()).hexdigest()
    p = _collect(repo, log, capsys)  # default thresholds: a crash fails however short the run
    assert p["result"]["status"] == "fail"
    assert f"1 crashes found: {saved.name}; each fails until fixed" in p["result"]["summary"]
    assert "too short" not in p["result"]["summary"]
    assert p["details"]["findings"] == [
        {
            "id": saved.name,
            "severity": "crash",
            "summary": "uncaught Python exception: RuntimeError: unhandled frame",
        }
    ]


def test_an_uninstrumented_target_was_fuzzed_blind(
    repo: Path, atheris_runs: dict[str, tuple[Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(repo, SHORT)
    p = _collect(repo, atheris_runs["blind"][0], capsys)
    assert p["result"]["status"] == "incomplete"
    assert "the target was not instrumented" in p["result"]["summary"]
    assert "coverage" not in p["result"]["metrics"]


@pytest.mark.parametrize(
    ("report", "status", "words"),
    [
        ("libfuzzer-clean.log", "pass", "libFuzzer fuzzed fuzz/modbus_frame.c: 4,916,010 exec"),
        (
            "libfuzzer-leak.log",
            "fail",
            "1 leaks found: leak-e1a3a2a385be2619f19db39b9368bc63faf8e5bd;",
        ),
        ("libfuzzer-timeout.log", "fail", "1 timeouts found: timeout-"),
        ("libfuzzer-replay.log", "incomplete", "it says: fuzzing was not performed"),
        # -fork=2: the main process's totals, and what it counted is what it found
        (
            "libfuzzer-fork-clean.log",
            "pass",
            "libFuzzer fuzzed fuzz/modbus_frame.c: 1,606,831 executions in 26 s, coverage 5",
        ),
        ("libfuzzer-fork-stop.log", "fail", "1 leaks found: leak-e1a3a2a385be2619f19db39b9368bc"),
        ("libfuzzer-fork-leak.log", "fail", "249,708 executions in 15 s, coverage 5; 18 leaks"),
        ("libfuzzer-fork-timeout.log", "fail", "6 timeouts found: timeout-unsaved-1, timeout-"),
        # -jobs=2: each job's fuzz-N.log as the main process printed it
        (
            "libfuzzer-jobs.log",
            "pass",
            "libFuzzer fuzzed fuzz/modbus_frame.c: 5,701,765 executions in 21 s, coverage 5",
        ),
        ("afl-clean/fuzzer_stats", "pass", "AFL++ fuzzed fuzz/modbus_frame.c: 14,250 exec"),
        ("afl-crash/fuzzer_stats", "fail", "1 crashes found: crash-"),
    ],
)
def test_libfuzzer_and_aflpp_outputs(
    repo: Path, capsys: pytest.CaptureFixture[str], report: str, status: str, words: str
) -> None:
    _configure(repo, "[collectors.fuzzing]\nmin_seconds = 15\nmin_executions = 10000\n")
    p = _collect(repo, DATA / report, capsys, target="fuzz/modbus_frame.c")
    assert p["result"]["status"] == status, p["result"]["summary"]
    assert words in p["result"]["summary"]


def test_aflpp_crashes_are_named_by_the_sha1_of_the_saved_input(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = (DATA / "afl-crash" / "crashes" / "crash-0").read_bytes()
    p = _collect(repo, DATA / "afl-crash" / "fuzzer_stats", capsys, "fuzz/modbus_frame.c")
    (finding,) = p["details"]["findings"]
    assert finding["id"] == "crash-" + hashlib.sha1(saved).hexdigest()
    assert p["tool"] == {"name": "AFL++", "version": "4.04c"}
    # The stats alone (crashes/ not beside them): still a failure, the input unnamed.
    alone = tmp_path / "stats"
    alone.mkdir()
    shutil.copy(DATA / "afl-crash" / "fuzzer_stats", alone)
    p = _collect(repo, alone / "fuzzer_stats", capsys, "fuzz/modbus_frame.c")
    assert p["result"]["status"] == "fail"
    assert [f["id"] for f in p["details"]["findings"]] == ["crash-unsaved-1"]


def test_a_log_cut_short_is_incomplete(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (DATA / "libfuzzer-clean.log").read_text()
    cut = tmp_path / "cut.log"
    cut.write_text(text[: text.index("Done ")])
    _configure(repo, SHORT)
    p = _collect(repo, cut, capsys, target="fuzz/modbus_frame.c")
    assert p["result"]["status"] == "incomplete"
    assert (
        "the log stops before libFuzzer's `Done N runs in T second(s)` line"
        in (p["result"]["summary"])
    )


@pytest.mark.parametrize(
    ("report", "cut_at", "words"),
    [
        (
            "libfuzzer-fork-clean.log",
            "INFO: fuzzed for",
            "the log stops before libFuzzer's `INFO: exiting: CODE time: Ts` line (fork mode)",
        ),
        (
            "libfuzzer-jobs.log",
            "================== Job 1 exited",
            "job(s) 1 did not finish in this output (their fuzz-N.log is printed when they exit)",
        ),
        (
            "libfuzzer-jobs.log",
            "================== Job 0 exited",
            "libFuzzer's -jobs output names 2 job log(s) (fuzz-N.log) but no job has finished "
            "in it: give the main process's whole output once every job has exited",
        ),
    ],
)
def test_a_fork_or_jobs_run_cut_short_is_incomplete(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    report: str,
    cut_at: str,
    words: str,
) -> None:
    text = (DATA / report).read_text()
    cut = tmp_path / "cut.log"
    cut.write_text(text[: text.index(cut_at)])
    _configure(repo, SHORT)
    p = _collect(repo, cut, capsys, target="fuzz/modbus_frame.c")
    assert p["result"]["status"] == "incomplete", p["result"]["summary"]
    assert words in p["result"]["summary"]


def test_fork_mode_names_where_its_unnamed_inputs_are(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = _collect(repo, DATA / "libfuzzer-fork-timeout.log", capsys, "fuzz/modbus_frame.c")
    assert [f["id"] for f in p["details"]["findings"]] == [
        f"timeout-unsaved-{n}" for n in range(1, 7)
    ]
    assert p["result"]["metrics"] == {
        "crashes": 6,
        "executions": 644018,
        "seconds": 25,
        "coverage": 5,
    }
    assert "saves what it finds under -artifact_prefix" in " ".join(p["details"]["notes"])


@pytest.mark.parametrize(
    ("target", "report", "expected"),
    [
        (None, "libfuzzer-clean.log", "name the fuzz target: add --fuzz-target PATH"),
        ("fuzz/missing.py", "libfuzzer-clean.log", "--fuzz-target fuzz/missing.py: not a file"),
        (TARGET, "modbus_frame.c", "not a fuzzer report this collector reads"),
    ],
)
def test_bad_input_exits_2_and_appends_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], target: str | None, report: str, expected: str
) -> None:
    before = len(list(ledger.entries(GitStore(repo))))
    args = ["collect", "--only", "fuzzing", "--repo", str(repo)]
    args += ["--from-report", str(DATA / report)]
    args += ["--fuzz-target", target] if target else []
    assert main(args) == 2
    assert expected in capsys.readouterr().err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_without_a_report_it_records_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["collect", "--only", "fuzzing", "--repo", str(repo)]) == 0
    assert [e.statement().predicate.kind for e in ledger.entries(GitStore(repo))] == []


def test_svv3_judges_the_ingested_run_and_its_crash_is_a_finding(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SVV-3 alone, with the default policy's provenance for it (a tool's report counts).
    text = only("SVV-3").replace("[attested, signed]", "[signed, verified, ingested]")
    policy = policy_file(repo.parent, "extends: iec62443-4-1\n" + text, "svv3.yaml")

    def svv3() -> dict:  # type: ignore[type-arg]
        capsys.readouterr()
        main(["status", "--repo", str(repo), "--policy", str(policy), "--format", "json"])
        reqs = json.loads(capsys.readouterr().out)["requirements"]
        return next(r for r in reqs if r["id"] == "SVV-3")  # type: ignore[no-any-return]

    _configure(repo, "[collectors.fuzzing]\nmin_seconds = 15\n")
    _collect(repo, DATA / "libfuzzer-leak.log", capsys, "fuzz/modbus_frame.c")
    found = svv3()
    assert found["status"] == "failing"
    assert "fuzzing: entry 1 on " in found["reason"]
    assert "leak-e1a3a2a385be2619f19db39b9368bc63faf8e5bd" in found["reason"]
    # A clean run of the same target supersedes it; SVV-3's fuzzing part is then met.
    _collect(repo, DATA / "libfuzzer-clean.log", capsys, "fuzz/modbus_frame.c")
    found = svv3()
    assert "(met: " in found["reason"], found["reason"]
    met = found["reason"].split("(met: ")[1]
    assert "fuzzing: entry 2 on " in met and "libFuzzer fuzzed fuzz/modbus_frame.c" in met


def test_hostile_reports_carry_no_control_characters_and_no_symlinked_inputs(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (DATA / "libfuzzer-leak.log").read_text()
    evil = tmp_path / "evil.log"
    evil.write_text(
        text.replace("LeakSanitizer: detected", "\x1b]0;owned\x07LeakSanitizer: detected").replace(
            "leak-e1a3", "leak-\x1b[2Je1a3"
        )
    )
    p = _collect(repo, evil, capsys, "fuzz/modbus_frame.c")
    assert "\x1b" not in json.dumps(p) and "\\u001b" not in json.dumps(p)
    assert p["details"]["findings"][0]["id"].startswith("leak-?[2Je1a3")
    # AFL++: a symlink in crashes/ is not followed (here to a file outside): the crash is unnamed.
    out = tmp_path / "out"
    (out / "crashes").mkdir(parents=True)
    shutil.copy(DATA / "afl-crash" / "fuzzer_stats", out)
    (out / "crashes" / "crash-0").symlink_to(repo / "README.md")
    p = _collect(repo, out / "fuzzer_stats", capsys, "fuzz/modbus_frame.c")
    assert [f["id"] for f in p["details"]["findings"]] == ["crash-unsaved-1"]


def test_superscript_digits_are_not_numbers(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`'²'.isdigit()` is true but int() refuses it: such a value is no number, not a crash."""
    stats = (DATA / "afl-clean" / "fuzzer_stats").read_text()
    odd = tmp_path / "fuzzer_stats"
    odd.write_text(stats.replace("execs_done        : 14250", "execs_done        : ²"))
    p = _collect(repo, odd, capsys, "fuzz/modbus_frame.c")
    assert p["result"]["status"] == "incomplete" and "executions" not in p["result"]["metrics"]
    log = tmp_path / "fuzz.log"
    log.write_text((DATA / "libfuzzer-clean.log").read_text().replace("#2\t", "#²\t"))
    _configure(repo, SHORT)
    assert _collect(repo, log, capsys, "fuzz/modbus_frame.c")["result"]["status"] == "pass"
