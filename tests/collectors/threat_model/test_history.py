from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from helpers import git

from sdl_tracker.collectors.threat_model.history import history


def _commit(root: Path, files: dict[str, str], message: str, when: str) -> str:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        git(root, "add", name)
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    git(root, "commit", "-q", "-m", message, env=env)
    return git(root, "rev-parse", "HEAD")


def test_owned_files_changed_after_the_models_last_commit(git_repo: Path) -> None:
    _commit(git_repo, {"src/agent/a.py": "1\n", "docs/x.md": "1\n"}, "code", "2024-05-02T10:00:00Z")
    model = _commit(git_repo, {"threat-model.yaml": "v1\n"}, "model", "2024-05-03T10:00:00Z")
    _commit(
        git_repo, {"src/agent/a.py": "2\n", "docs/x.md": "2\n"}, "change", "2024-05-04T10:00:00Z"
    )
    _commit(git_repo, {"src/agent/sub/b.py": "1\n"}, "add", "2024-05-05T10:00:00Z")
    head = git(git_repo, "rev-parse", "HEAD")
    h = history(git_repo, head, "threat-model.yaml", ["src/agent/**", "threat-model.yaml"])
    assert h.commit == model
    assert h.committed_at == datetime(2024, 5, 3, 10, tzinfo=timezone.utc)
    assert not h.dirty
    # docs/x.md is not owned; the model itself never counts.
    assert h.changed == ("src/agent/a.py", "src/agent/sub/b.py")


def test_a_model_updated_after_the_code_is_current(git_repo: Path) -> None:
    _commit(git_repo, {"threat-model.yaml": "v1\n"}, "model", "2024-05-02T10:00:00Z")
    _commit(git_repo, {"src/a.py": "1\n"}, "code", "2024-05-03T10:00:00Z")
    _commit(git_repo, {"threat-model.yaml": "v2\n"}, "model again", "2024-05-04T10:00:00Z")
    head = git(git_repo, "rev-parse", "HEAD")
    h = history(git_repo, head, "threat-model.yaml", ["src/**"])
    assert h.commit == head and h.changed == ()


def test_uncommitted_and_dirty_models(git_repo: Path) -> None:
    head = git(git_repo, "rev-parse", "HEAD")
    (git_repo / "threat-model.yaml").write_text("new\n")
    h = history(git_repo, head, "threat-model.yaml", ["src/**"])
    assert (h.commit, h.committed_at, h.dirty) == (None, None, True)
    git(git_repo, "add", "threat-model.yaml")
    git(git_repo, "commit", "-q", "-m", "model")
    (git_repo / "threat-model.yaml").write_text("changed\n")
    h = history(git_repo, git(git_repo, "rev-parse", "HEAD"), "threat-model.yaml", [])
    assert h.commit is not None and h.dirty
