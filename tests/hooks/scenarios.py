"""The repositories the pre-commit framework runs our hooks in, once passing, once failing.

Each builder makes a real git repository under `base` and returns the `pre-commit run`
invocation. Secrets are assembled at run time so that no scanner flags this file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from .framework import Invocation, git, staged

DATA = Path(__file__).resolve().parents[1] / "data" / "threatmodel"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
CLEAN = "def add(a, b):\n    return a + b\n"
SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
CONFIG = """\
[collectors.sbom]
source = "requirements"

[hooks]
security_critical_paths = ["src/agent/*"]
"""
REVIEWED = """\
Check the image signature before installing

Security-Reviewed-by: Grace Hopper <grace@example.com>
Threat-Model: unchanged the check uses the existing signing key and data flow
"""
UNREVIEWED = """\
Check the image signature before installing

Reviewed-by: grace
"""
Env = Mapping[str, str]


def _python(repo: Path, env: Env, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    proc = subprocess.run(
        [sys.executable, *args], cwd=repo, env=dict(env), capture_output=True, text=True
    )
    assert proc.returncode in ok, f"{args}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"


def _repo(base: Path, name: str, env: Env) -> Path:
    repo = base / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "config", "user.name", "Ada Lovelace", env=env)
    git(repo, "config", "user.email", "ada@example.com", env=env)
    (repo / ".sdl-tracker.toml").write_text(CONFIG)
    (repo / "threat-model.yaml").write_text((DATA / "threat-model.yaml").read_text())
    (repo / "requirements.txt").write_text("packaging==24.0\n")
    # --fix writes the SBOM and exits 1, so that a developer stages it
    _python(repo, env, "-m", "sdl_tracker.hooks.sbom", "--fix", "requirements.txt", ok=(1,))
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "initial commit", env=env)
    return repo


def pre_commit_pass(base: Path, env: Env) -> Invocation:
    repo = _repo(base, "pre-commit-pass", env)
    model = (repo / "threat-model.yaml").read_text() + "# reviewed again\n"
    files = staged(
        repo,
        {
            "src/calc.py": CLEAN,
            "notes.txt": "nothing secret here\n",
            "threat-model.yaml": model,
            "requirements.txt": "packaging==24.0  # pinned\n",
        },
        env,
    )
    return Invocation(repo, ("--files", *files))


def pre_commit_fail(base: Path, env: Env) -> Invocation:
    repo = _repo(base, "pre-commit-fail", env)
    model = (
        (repo / "threat-model.yaml").read_text().replace("status: mitigated", "status: maybe", 1)
    )
    files = staged(
        repo,
        {
            "src/run.py": SHELL,
            "deploy.env": f"AWS_ACCESS_KEY_ID={AWS_KEY}\n",
            "threat-model.yaml": model,
            "requirements.txt": "packaging==24.1\n",
        },
        env,
    )
    return Invocation(repo, ("--files", *files))


def _commit_msg(base: Path, name: str, message: str, env: Env) -> Invocation:
    repo = _repo(base, name, env)
    staged(repo, {"src/agent/verify.py": CLEAN}, env)
    (repo / "MSG").write_text(message)
    return Invocation(
        repo, ("sdl-commit-msg", "--hook-stage", "commit-msg", "--commit-msg-filename", "MSG")
    )


def commit_msg_pass(base: Path, env: Env) -> Invocation:
    return _commit_msg(base, "commit-msg-pass", REVIEWED, env)


def commit_msg_fail(base: Path, env: Env) -> Invocation:
    return _commit_msg(base, "commit-msg-fail", UNREVIEWED, env)


def _post_commit(base: Path, name: str, hooks_ran: bool, env: Env) -> Invocation:
    repo = _repo(base, name, env)
    _python(repo, env, "-m", "sdl_tracker", "init")
    staged(repo, {"src/agent/verify.py": CLEAN}, env)
    (repo.parent / f"{name}.msg").write_text(REVIEWED)
    if hooks_ran:  # what the commit-msg hook does when it accepts the message
        _python(repo, env, "-m", "sdl_tracker.hooks.commit_msg", str(repo.parent / f"{name}.msg"))
    git(repo, "commit", "-q", "-F", str(repo.parent / f"{name}.msg"), env=env)
    return Invocation(repo, ("sdl-record", "--hook-stage", "post-commit"))


def post_commit_pass(base: Path, env: Env) -> Invocation:
    return _post_commit(base, "post-commit-pass", True, env)


def post_commit_fail(base: Path, env: Env) -> Invocation:
    return _post_commit(base, "post-commit-fail", False, env)


def _pre_push(base: Path, name: str, trained: bool, env: Env) -> Invocation:
    from evidence_factory import only
    from identity import roster_text, ssh_keys

    repo = _repo(base, name, env)
    policy = "extends: iec62443-4-1\n" + only("SM-4", "not part of this test")
    (repo / "policy.yaml").write_text(policy)
    (repo / ".sdl-tracker.toml").write_text('policy = "policy.yaml"\n' + CONFIG)
    keys = ssh_keys(base / "keys")
    (repo / "sdl-roster.yaml").write_text(roster_text(keys))
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "policy", env=env)
    _python(repo, env, "-m", "sdl_tracker", "init")
    # The product-security-lead approves the committed policy: its tailoring counts.
    _python(repo, env, "-m", "sdl_tracker", "approve", "--policy", "--key", str(keys["grace"]))
    if trained:
        (repo.parent / "training.csv").write_text("name,course,date\nAda,secure coding,2024-05\n")
        _python(repo, env, "-m", "sdl_tracker", "record", "training_record", "../training.csv")
    git(repo, "tag", "v1.0", env=env)
    first = git(repo, "rev-list", "--max-parents=0", "HEAD", env=env)
    return Invocation(
        repo,
        ("sdl-gate", "--hook-stage", "pre-push", "--from-ref", first, "--to-ref", "HEAD",
         "--remote-name", "origin", "--remote-url", str(base / "remote.git"),
         "--local-branch", "refs/tags/v1.0", "--remote-branch", "refs/tags/v1.0"),
    )  # fmt: skip


def pre_push_pass(base: Path, env: Env) -> Invocation:
    return _pre_push(base, "pre-push-pass", True, env)


def pre_push_fail(base: Path, env: Env) -> Invocation:
    return _pre_push(base, "pre-push-fail", False, env)


SCENARIOS: dict[str, Callable[[Path, Env], Invocation]] = {
    "pre-commit-pass": pre_commit_pass,
    "pre-commit-fail": pre_commit_fail,
    "commit-msg-pass": commit_msg_pass,
    "commit-msg-fail": commit_msg_fail,
    "post-commit-pass": post_commit_pass,
    "post-commit-fail": post_commit_fail,
    "pre-push-pass": pre_push_pass,
    "pre-push-fail": pre_push_fail,
}
