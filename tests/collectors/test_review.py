from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from helpers import git

from sdl_tracker import ledger
from sdl_tracker.cli.main import main
from sdl_tracker.gitdata import history
from sdl_tracker.ledger import GitStore

ADA = ("Ada Lovelace", "ada@example.com")
BOB = ("Bob Example", "bob@example.com")
GITHUB = ("GitHub", "noreply@github.com")


def _env(author: tuple[str, str], committer: tuple[str, str] | None = None) -> dict[str, str]:
    committer = committer or author
    return {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": committer[0],
        "GIT_COMMITTER_EMAIL": committer[1],
    }


def commit(
    repo: Path,
    message: str | bytes,
    *,
    author: tuple[str, str] = ADA,
    committer: tuple[str, str] | None = None,
    files: dict[str, str] | None = None,
    latin1: bool = False,
) -> str:
    for name, text in (files or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    data = message.encode("latin-1" if latin1 else "utf-8") if isinstance(message, str) else message
    args = ["-c", "i18n.commitEncoding=latin1"] if latin1 else []
    git(
        repo,
        *args,
        "commit",
        "-q",
        "--allow-empty",
        "--allow-empty-message",
        "--cleanup=verbatim",
        "-F",
        "-",
        input=data,
        env=_env(author, committer),
    )
    return git(repo, "rev-parse", "HEAD")


def merge(repo: Path, message: str, *branches: str, author: tuple[str, str] = BOB) -> str:
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "--allow-unrelated-histories",
        "-m",
        message,
        *branches,
        env=_env(author),
    )
    return git(repo, "rev-parse", "HEAD")


def collect(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict, dict]:
    capsys.readouterr()
    code = main(["collect", "--only", "review", "--repo", str(repo), "--format", "json", *args])
    assert code == 0, capsys.readouterr().err
    (entry,) = json.loads(capsys.readouterr().out)
    statement = entry["statement"]
    store = GitStore(repo)
    (artifact,) = statement["subject"][1:]
    report = json.loads(store.read_object(artifact["digest"]["sha256"]) or b"")
    return statement["predicate"], report


@pytest.fixture
def repo(git_repo: Path) -> Path:
    assert main(["init", "--repo", str(git_repo)]) == 0
    return git_repo


def _flags(report: dict) -> dict[str, tuple[bool, bool, bool]]:
    return {
        c["subject"]: (c["reviewed"], c["independently_reviewed"], bool(c.get("pull_requests")))
        for c in report["commits"]
    }


# (message, author, committer, reviewed, independently reviewed, PR-merged)
LINEAR = [
    ("plain change", ADA, None, False, False, False),
    ("other reviewer\n\nReviewed-by: Bob <bob@example.com>", ADA, None, True, True, False),
    ("self review\n\nReviewed-by: Ada <ADA@Example.COM>", ADA, None, True, False, False),
    (
        "co-author reviews\n\nCo-authored-by: Bob <bob@example.com>\n"
        "Reviewed-by: Bob <bob@example.com>",
        ADA,
        None,
        True,
        False,
        False,
    ),
    (
        "mailmapped self review\n\nReviewed-by: Ada Old <ada.old@example.com>",
        ADA,
        None,
        True,
        False,
        False,
    ),
    (
        "mailmapped author\n\nReviewed-by: Bob <bob@example.com>",
        ("Ada", "ada.old@example.com"),
        None,
        True,
        True,
        False,
    ),
    (
        "repeated keys\n\nReviewed-by: Ada <ada@example.com>\n"
        "Reviewed-by: Carol <carol@example.com>",
        ADA,
        None,
        True,
        True,
        False,
    ),
    (
        "folded trailer\n\nReviewed-by: Carol Example\n  <carol@example.com>",
        ADA,
        None,
        True,
        True,
        False,
    ),
    (
        "dashes in body\n\nsome text\n---\nmore text\n\nAcked-by: Bob <bob@example.com>",
        ADA,
        None,
        True,
        True,
        False,
    ),
    # git reads trailers from the last paragraph only: a dashed line after them hides them
    (
        "trailers before dashes\n\nReviewed-by: Bob <bob@example.com>\n---\nnotes",
        ADA,
        None,
        False,
        False,
        False,
    ),
    ("lower-case key\n\nacked-by: Bob <bob@example.com>", ADA, None, True, True, False),
    ("approved\n\nApproved-by: bob@example.com", ADA, None, True, True, False),
    (
        "security reviewed\n\nSecurity-Reviewed-by: Bob <bob@example.com>",
        ADA,
        None,
        True,
        True,
        False,
    ),
    ("signed off only\n\nSigned-off-by: Bob <bob@example.com>", ADA, None, False, False, False),
    ("co-authored only\n\nCo-authored-by: Bob <bob@example.com>", ADA, None, False, False, False),
    ("reviewer without e-mail\n\nReviewed-by: Bob", ADA, None, True, False, False),
    (
        "not a trailer block\n\nReviewed-by: Bob <bob@example.com>\n\nfinal paragraph, no trailers",
        ADA,
        None,
        False,
        False,
        False,
    ),
    ("", ADA, None, False, False, False),
    ("squash merged (#42)", ADA, GITHUB, True, False, True),
    (
        "squash merged and reviewed (#43)\n\nReviewed-by: Bob <bob@example.com>",
        ADA,
        GITHUB,
        True,
        True,
        True,
    ),
    ("looks like a PR (#44)", ADA, None, False, False, False),
]


def test_linear_trailer_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".mailmap").write_text("Ada Lovelace <ada@example.com> <ada.old@example.com>\n")
    commit(repo, "mailmap", files={".mailmap": (repo / ".mailmap").read_text()})
    git(repo, "tag", "v1.0")
    for message, author, committer, *_ in LINEAR:
        commit(repo, message, author=author, committer=committer)
    latin = commit(repo, "caf\xe9 latin-1\n\nReviewed-by: Zo\xeb <zoe@example.com>", latin1=True)
    pred, report = collect(repo, capsys)

    expected = {m.split("\n")[0]: tuple(flags) for m, _, _, *flags in LINEAR}
    expected["caf\xe9 latin-1"] = (True, True, False)
    assert _flags(report) == expected
    assert pred["kind"] == "review_record"
    assert pred["requirements"] == ["SI-1", "SD-3", "SR-5", "SVV-5", "SG-7"]
    n = len(LINEAR) + 1
    reviewed = sum(f[3] for f in LINEAR) + 1
    independent = sum(f[4] for f in LINEAR) + 1
    assert pred["result"]["metrics"] == {
        "commits": n,
        "reviewed": reviewed,
        "independently_reviewed": independent,
        "pr_merged": 2,
        "forge_approved": 0,
        "security_critical_commits": 0,
        "security_critical_reviewed": 0,
        "documentation_commits": 0,
        "documentation_reviewed": 0,
    }
    assert pred["result"]["status"] == "fail"
    assert pred["result"]["summary"].startswith(
        f"{independent} of {n} commits independently reviewed ({reviewed} reviewed, 2 via "
        "pull/merge requests) in v1.0..HEAD"
    )
    by_id = {c["id"]: c for c in report["commits"]}
    assert by_id[latin]["trailers"] == ["reviewed-by: Zo\xeb <zoe@example.com>"]
    by_subject = {c["subject"]: c for c in report["commits"]}
    assert by_subject["repeated keys"]["trailers"] == [
        "reviewed-by: Ada <ada@example.com>",
        "reviewed-by: Carol <carol@example.com>",
    ]
    assert by_subject["folded trailer"]["trailers"] == [
        "reviewed-by: Carol Example <carol@example.com>"
    ]
    assert by_subject["signed off only"]["trailers"] == ["signed-off-by: Bob <bob@example.com>"]
    assert "trailers" not in by_subject["plain change"]
    squash = by_subject["squash merged (#42)"]
    assert squash["pull_requests"] == [{"number": 42, "via": "squash", "merge": None}]
    assert len(report["unreviewed"]) == n - reviewed
    assert len(report["not_independently_reviewed"]) == n - independent
    assert report["range"]["base_ref"] == "v1.0"


def test_pr_merge_counts_as_review_off(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + "\n[collectors.review]\npr_merge_counts_as_review = false\n"
    )
    commit(repo, "squash merged (#42)", committer=GITHUB)
    pred, report = collect(repo, capsys)
    assert _flags(report) == {
        "squash merged (#42)": (False, False, True),
        "initial commit": (False, False, False),
    }
    assert pred["result"]["metrics"]["pr_merged"] == 1
    assert pred["result"]["metrics"]["reviewed"] == 0


def _branch(repo: Path, name: str, start: str, *subjects: str, author=ADA) -> str:
    git(repo, "checkout", "-q", "-b", name, start)
    for subject in subjects:
        commit(repo, subject, author=author, files={f"{name}/{subject[:12]}.txt": subject})
    git(repo, "checkout", "-q", "main")
    return name


def _merge_history(repo: Path) -> dict[str, str]:
    """Every kind of merge; returns subject -> merge commit id."""
    git(repo, "tag", "v1.0")
    base = git(repo, "rev-parse", "HEAD")
    merges = {}
    _branch(repo, "gh", base, "gh one", "gh two")
    merges["gh"] = merge(repo, "Merge pull request #7 from org/gh", "gh", author=BOB)
    _branch(repo, "same", "main", "same author")
    merges["same"] = merge(repo, "Merge pull request #8 from org/same", "same", author=ADA)
    _branch(repo, "gl", "main", "gl change")
    merges["gl"] = merge(
        repo, "Merge branch 'gl' into 'main'\n\nGitLab title\n\nSee merge request grp/proj!9", "gl"
    )
    _branch(repo, "subj", "main", "subject change")
    merges["subj"] = merge(repo, "Merge branch 'subj' (#10)", "subj")
    _branch(repo, "plain", "main", "plain merged")
    merges["plain"] = merge(repo, "Merge branch 'plain'", "plain")
    # octopus: only M^1..M^2 is brought in by the pull request
    _branch(repo, "oct1", "main", "octopus first")
    _branch(repo, "oct2", "main", "octopus second")
    merges["octopus"] = merge(repo, "Merge pull request #11 from org/oct1", "oct1", "oct2")
    # a PR branch that merged main in: main's own commits are not part of the PR
    fork = git(repo, "rev-parse", "HEAD")
    commit(repo, "main moves on", files={"main.txt": "x"})
    git(repo, "checkout", "-q", "-b", "nested", fork)
    commit(repo, "nested work", files={"nested.txt": "x"})
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'main' into nested", "main")
    git(repo, "checkout", "-q", "main")
    merges["nested"] = merge(repo, "Merge pull request #12 from org/nested", "nested")
    # an unrelated history (a second root commit) brought in by a pull request
    git(repo, "checkout", "-q", "--orphan", "orphan")
    git(repo, "rm", "-q", "-rf", ".")
    commit(repo, "orphan root", files={"orphan.txt": "x"})
    git(repo, "checkout", "-q", "main")
    merges["orphan"] = merge(repo, "Merge pull request #13 from org/orphan", "orphan")
    return merges


MERGE_EXPECTED = {
    # subject: (reviewed, independently reviewed, PR-merged)
    "gh one": (True, True, True),
    "gh two": (True, True, True),
    "same author": (True, False, True),
    "gl change": (True, True, True),
    "subject change": (True, True, True),
    "plain merged": (False, False, False),
    "octopus first": (True, True, True),
    "octopus second": (False, False, False),
    "main moves on": (False, False, False),
    "nested work": (True, True, True),
    "orphan root": (True, True, True),
}


def test_merges_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merges = _merge_history(repo)
    pred, report = collect(repo, capsys)
    assert _flags(report) == MERGE_EXPECTED
    numbers = {
        c["subject"]: [p["number"] for p in c.get("pull_requests", [])] for c in report["commits"]
    }
    assert numbers["gh one"] == [7]
    assert numbers["gl change"] == [9]
    assert numbers["subject change"] == [10]
    assert numbers["nested work"] == [12]
    gh = next(c for c in report["commits"] if c["subject"] == "gh one")
    assert gh["pull_requests"] == [{"number": 7, "via": "merge", "merge": merges["gh"]}]
    metrics = pred["result"]["metrics"]
    assert metrics["commits"] == len(MERGE_EXPECTED)
    assert metrics["pr_merged"] == sum(f[2] for f in MERGE_EXPECTED.values())
    assert metrics["independently_reviewed"] == sum(f[1] for f in MERGE_EXPECTED.values())
    assert report["paths"]["gh"] == {"commits": 2, "reviewed": 2, "independently_reviewed": 2}


def test_exclusive_agrees_with_git_rev_list(repo: Path) -> None:
    merges = _merge_history(repo)
    rng = history.commit_range(repo, git(repo, "rev-parse", "HEAD"), all_history=True)
    commits = history.read(repo, rng)
    order = {c.id: i for i, c in enumerate(commits)}
    parents = {c.id: c.parents for c in commits}
    for merge_id in merges.values():
        m1, m2 = git(repo, "rev-parse", f"{merge_id}^1", f"{merge_id}^2").split()
        expected = set(git(repo, "rev-list", f"{m1}..{m2}").split())
        assert set(history.exclusive(order, parents, m2, m1)) == expected


def _ancestors(parents: dict[str, tuple[str, ...]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.add(c)
            todo.extend(parents[c])
    return seen


def test_exclusive_random_dags() -> None:
    rng = random.Random(4)
    for _ in range(200):
        n = rng.randint(2, 40)
        # node i's parents are older nodes (larger index = older, like topo order)
        parents = {
            str(i): tuple(
                str(p)
                for p in rng.sample(range(i + 1, n), min(n - i - 1, rng.choice((0, 1, 1, 2, 3))))
            )
            for i in range(n)
        }
        order = {str(i): i for i in range(n)}
        a, b = rng.sample(range(n), 2)
        expected = _ancestors(parents, str(a)) - _ancestors(parents, str(b))
        assert set(history.exclusive(order, parents, str(a), str(b))) == expected


def test_ranges(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred, report = collect(repo, capsys)  # no tag: whole history, root commit included
    assert report["range"]["how"] == "no-tag"
    assert pred["result"]["metrics"]["commits"] == 1
    assert "the whole history" in pred["result"]["summary"]
    commit(repo, "before release")
    git(repo, "tag", "v1.0")
    git(repo, "tag", "not-a-release")
    commit(repo, "in release one\n\nReviewed-by: Bob <bob@example.com>")
    git(repo, "tag", "v1.1")
    pred, report = collect(repo, capsys)  # HEAD is v1.1: the previous tag is v1.0
    assert [c["subject"] for c in report["commits"]] == ["in release one"]
    assert report["range"]["base_ref"] == "v1.0"
    assert pred["result"]["status"] == "pass"
    commit(repo, "after release")
    pred, report = collect(repo, capsys)
    assert [c["subject"] for c in report["commits"]] == ["after release"]
    pred, report = collect(repo, capsys, "--since", "v1.0")
    assert [c["subject"] for c in report["commits"]] == ["after release", "in release one"]
    pred, report = collect(repo, capsys, "--all")
    assert pred["result"]["metrics"]["commits"] == 4
    pred, report = collect(repo, capsys, "--since", "HEAD")
    assert pred["result"]["status"] == "info"
    assert pred["result"]["metrics"]["commits"] == 0
    assert pred["result"]["summary"].startswith("0 of 0 commits independently reviewed")


def test_unknown_since_exits_2_and_appends_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(list(ledger.entries(GitStore(repo))))
    assert main(["collect", "--only", "review", "--repo", str(repo), "--since", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--since 'nope': names no commit" in err
    assert "Traceback" not in err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_security_critical_paths(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + '\n[collectors.review]\nsecurity_critical_paths = ["src/crypto/**"]\n'
    )
    git(repo, "tag", "v1.0")
    commit(
        repo, "aes\n\nSecurity-Reviewed-by: Bob <bob@example.com>", files={"src/crypto/aes.py": "1"}
    )
    commit(repo, "rsa\n\nReviewed-by: Bob <bob@example.com>", files={"src/crypto/rsa.py": "1"})
    commit(
        repo, "self\n\nSecurity-Reviewed-by: Ada <ada@example.com>", files={"src/crypto/x.py": "1"}
    )
    commit(repo, "ui\n\nReviewed-by: Bob <bob@example.com>", files={"src/ui/app.py": "1"})
    pred, report = collect(repo, capsys)
    m = pred["result"]["metrics"]
    assert (m["security_critical_commits"], m["security_critical_reviewed"]) == (3, 1)
    assert pred["result"]["status"] == "fail"
    assert "1 of 3 security-critical commits security-reviewed" in pred["result"]["summary"]
    assert len(report["security_critical_not_reviewed"]) == 2
    assert report["paths"] == {
        "src": {"commits": 4, "reviewed": 4, "independently_reviewed": 3},
    }


def test_non_utf8_bytes_are_replaced(repo: Path) -> None:
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    parent = git(repo, "rev-parse", "HEAD")
    raw = (
        f"tree {tree}\nparent {parent}\nauthor Ada <ada@example.com> 1714555800 +0000\n"
        "committer Ada <ada@example.com> 1714555800 +0000\n\n"
    ).encode() + b"bad \xff\xfe bytes\x1e and RS\n\nReviewed-by: B\xe9b <bob@example.com>\n"
    new = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", input=raw)
    rng = history.commit_range(repo, new, all_history=True)
    first = history.read(repo, rng)[0]
    assert first.id == new
    assert first.subject == "bad \ufffd\ufffd bytes\x1e and RS"
    assert first.trailers == (("reviewed-by", "B\ufffdb <bob@example.com>"),)


FORGE = {
    "pulls": {
        "42": [
            {
                "user": {"login": "bob", "id": 2},
                "state": "APPROVED",
                "submitted_at": "2024-05-01T10:00:00Z",
            },
            {
                "user": {"login": "ada"},
                "state": "COMMENTED",
                "submitted_at": "2024-05-01T11:00:00Z",
            },
        ],
        "43": [
            {
                "user": {"login": "carol"},
                "state": "APPROVED",
                "submitted_at": "2024-05-01T10:00:00Z",
            },
            {
                "user": {"login": "carol"},
                "state": "CHANGES_REQUESTED",
                "submitted_at": "2024-05-01T12:00:00Z",
            },
        ],
        "44": [{"user": {"login": "ada"}, "state": "APPROVED"}],
        "45": [{"user": {"login": "dave"}, "state": "APPROVED"}],
    },
    "users": {"bob": "bob@example.com", "ada": ["ada@example.com"]},
}


def test_forge_review_export(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "tag", "v1.0")
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + "\n[collectors.review]\npr_merge_counts_as_review = false\n"
        + 'forge_reviews = "reviews.json"\n'
    )
    rebased = commit(repo, "rebase merged")
    FORGE["commits"] = {rebased: 45}
    (repo / "reviews.json").write_text(json.dumps(FORGE))
    commit(repo, "approved by bob (#42)", committer=GITHUB)
    commit(repo, "approval withdrawn (#43)", committer=GITHUB)
    commit(repo, "approved by the author (#44)", committer=GITHUB)
    commit(repo, "not in the export (#46)", committer=GITHUB)
    pred, report = collect(repo, capsys)
    assert _flags(report) == {
        "rebase merged": (True, False, True),
        "approved by bob (#42)": (True, True, True),
        "approval withdrawn (#43)": (False, False, True),
        "approved by the author (#44)": (True, False, True),
        "not in the export (#46)": (False, False, True),
    }
    assert pred["result"]["metrics"]["forge_approved"] == 3
    assert pred["result"]["metrics"]["pr_merged"] == 4  # the forge link is not a git link
    assert report["unmapped_forge_logins"] == ["dave"]


def test_forge_directory_with_paginated_output(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "tag", "v1.0")
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + '\n[collectors.review]\npr_merge_counts_as_review = false\nforge_reviews = "reviews"\n'
    )
    (repo / "reviews").mkdir()
    (repo / "reviews" / "42.json").write_text(
        '[{"user": {"login": "ada"}, "state": "APPROVED"}]\n'
        '[{"user": {"login": "bob"}, "state": "APPROVED"}]\n'
    )
    (repo / "reviews" / "users.json").write_text('{"bob": "bob@example.com"}')
    commit(repo, "approved (#42)", committer=GITHUB)
    pred, report = collect(repo, capsys)
    (record,) = report["commits"]
    assert record["forge_approvers"] == ["ada", "bob"]
    assert (record["reviewed"], record["independently_reviewed"]) == (True, True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "line 1 column 2: not valid JSON"),
        ('{"pulls": []}', "$.pulls: expected an object"),
        ('{"pulls": {"x": []}}', "$.pulls.x: expected a pull request number"),
        ('{"pulls": {"1": [{"state": "APPROVED"}]}}', "$.pulls.1[0].user.login: expected"),
        ('{"pulls": {"1": [{"user": {"login": "a"}, "state": 3}]}}', "$.pulls.1[0].state"),
        ('{"pulls": {}, "commits": {"abc": 1}}', "$.commits: 'abc' is not a full commit id"),
        ('{"pulls": {}, "users": {"a": 1}}', "$.users.a: expected an e-mail address"),
    ],
)
def test_malformed_forge_export_exits_2(
    repo: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + '\n[collectors.review]\nforge_reviews = "reviews.json"\n'
    )
    (repo / "reviews.json").write_text(content)
    before = len(list(ledger.entries(GitStore(repo))))
    assert main(["collect", "--only", "review", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert "reviews.json" in err and message in err, err
    assert len(list(ledger.entries(GitStore(repo)))) == before


def test_bad_config_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".sdl-tracker.toml").write_text(
        (repo / ".sdl-tracker.toml").read_text()
        + "\n[collectors.review]\npr_merge_counts_as_review = 'yes'\n"
    )
    assert main(["collect", "--only", "review", "--repo", str(repo)]) == 2
    assert "pr_merge_counts_as_review: expected true or false" in capsys.readouterr().err


def test_unchanged_range_is_reaffirmed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "tag", "v1.0")
    commit(repo, "change\n\nReviewed-by: Bob <bob@example.com>")
    collect(repo, capsys)
    capsys.readouterr()
    assert main(["collect", "--only", "review", "--repo", str(repo), "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["statement"]["predicate"]["result"]["summary"].startswith("reaffirmed: 1 of 1")
    (repo / ".mailmap").write_text("Bob <ada@example.com> <bob@example.com>\n")
    pred, _ = collect(repo, capsys)  # the .mailmap changed: evaluated again
    assert pred["result"]["metrics"]["independently_reviewed"] == 0


def test_shallow_clone_is_incomplete(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        commit(git_repo, f"change {i}\n\nReviewed-by: Bob <bob@example.com>")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{git_repo}", str(clone))
    assert main(["init", "--repo", str(clone)]) == 0
    pred, report = collect(clone, capsys)  # no tag: the whole (cut) history
    assert pred["result"]["status"] == "incomplete"
    assert pred["result"]["metrics"]["commits"] == 2
    assert "git fetch --unshallow" in pred["result"]["summary"]
    pred, _ = collect(clone, capsys, "--since", "HEAD~1")  # within the fetched depth
    assert pred["result"]["status"] == "pass"


def test_since_and_all_together_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["collect", "--only", "review", "--repo", str(repo), "--since", "HEAD", "--all"]
    assert main(args) == 2
    assert "--since and --all exclude each other" in capsys.readouterr().err


def _sg7(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    from evidence_factory import only, policy_file

    policy = policy_file(repo.parent, "extends: iec62443-4-1\n" + only("SG-7"), "sg7.yaml")
    capsys.readouterr()
    main(["status", "--repo", str(repo), "--policy", str(policy), "--format", "json"])
    found = json.loads(capsys.readouterr().out)["requirements"]
    return next(r for r in found if r["id"] == "SG-7")  # type: ignore[no-any-return]


def test_documentation_review_by_someone_else(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SG-7: the user documentation changed in the range, each change reviewed by someone other
    than its authors; a manual merely existing, or no documentation change, does not show it."""
    git(repo, "tag", "v1.0")
    commit(repo, "code\n\nReviewed-by: Bob <bob@example.com>", files={"src/app.py": "1"})
    pred, _ = collect(repo, capsys)
    assert pred["result"]["metrics"]["documentation_commits"] == 0
    assert "SG-7" in pred["requirements"]
    found = _sg7(repo, capsys)
    assert (found["id"], found["status"]) == ("SG-7", "not_demonstrated"), found
    commit(repo, "manual", files={"docs/manual.md": "how to use it\n"})
    commit(
        repo,
        "self-reviewed\n\nReviewed-by: Ada <ada@example.com>",
        files={"README.md": "read me\n"},
    )
    pred, _ = collect(repo, capsys)
    m = pred["result"]["metrics"]
    assert (m["documentation_commits"], m["documentation_reviewed"]) == (2, 0)
    assert _sg7(repo, capsys)["status"] == "failing"
    commit(
        repo,
        "reviewed\n\nReviewed-by: Bob <bob@example.com>",
        files={"docs/manual.md": "how to use it well\n"},
    )
    git(repo, "tag", "-d", "v1.0")
    git(repo, "tag", "v1.0", "HEAD~1")
    pred, _ = collect(repo, capsys)
    m = pred["result"]["metrics"]
    assert (m["documentation_commits"], m["documentation_reviewed"]) == (1, 1)
    assert _sg7(repo, capsys)["status"] == "satisfied"
