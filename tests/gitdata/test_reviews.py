"""The review-independence rules (`gitdata.reviews`) on one real history read once per module.

The history is made by real git (commits, merges, `.mailmap`), read by `history.read` and
mapped by `git check-mailmap`, exactly as the review collector does; each test then applies
the rules with its own settings and forge export, in milliseconds (the collector tests in
tests/collectors/test_review.py run the whole `collect` command per case).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import IDENTITY
from helpers import git

from sdl_tracker.gitdata import history
from sdl_tracker.gitdata.forge import ForgeReviews
from sdl_tracker.gitdata.history import Commit
from sdl_tracker.gitdata.reviews import (
    CommitReview,
    PrLink,
    Settings,
    classify,
    merge_request,
    path_matcher,
    pr_links,
)

ADA = ("Ada Lovelace", "ada@example.com")
BOB = ("Bob Example", "bob@example.com")
GITHUB = ("GitHub", "noreply@github.com")
CO_BOB = "Co-authored-by: Bob <bob@example.com>"


def _env(author: tuple[str, str], committer: tuple[str, str] | None = None) -> dict[str, str]:
    committer = committer or author
    return {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": committer[0],
        "GIT_COMMITTER_EMAIL": committer[1],
    }


def _commit(
    root: Path,
    message: str,
    *,
    author: tuple[str, str] = ADA,
    committer: tuple[str, str] | None = None,
    path: str | None = None,
) -> None:
    if path is not None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(message)
        git(root, "add", path)
    git(
        root,
        "commit",
        "-q",
        "--allow-empty",
        "--cleanup=verbatim",
        "-F",
        "-",
        input=message.encode(),
        env=_env(author, committer),
    )


def _merge(root: Path, branch: str, message: str, author: tuple[str, str]) -> None:
    git(root, "merge", "-q", "--no-ff", "-m", message, branch, env=_env(author))


# subject line -> the rest of the message, author, committer, changed path
LINEAR: dict[str, tuple[str, tuple[str, str], tuple[str, str] | None, str | None]] = {
    "upper-case author": (
        "Reviewed-by: Ada <ada@example.com>",
        ("Ada", "Ada@Example.COM"),
        None,
        None,
    ),
    "co-author approved it (#50)": (CO_BOB, ADA, GITHUB, None),
    "reviewed, self-approved (#51)": ("Reviewed-by: Bob <bob@example.com>", ADA, GITHUB, None),
    "noreply author (#52)": ("", ("Ada", "ada@users.noreply.github.com"), GITHUB, None),
    "security reviewer without address": ("Security-Reviewed-by: Bob", ADA, None, "crypto/a.py"),
    "security reviewed by the co-author": (
        f"{CO_BOB}\nSecurity-Reviewed-by: Bob <bob@example.com>",
        ADA,
        None,
        "crypto/b.py",
    ),
    "security reviewed": ("Security-Reviewed-by: Bob <bob@example.com>", ADA, None, "crypto/c.py"),
    "acked on a critical path": ("Acked-by: Bob <bob@example.com>", ADA, None, "crypto/d.py"),
    "mailmapped security reviewer": (
        "Security-Reviewed-by: Ada Old <ada.old@example.com>",
        ADA,
        None,
        "crypto/e.py",
    ),
    "upper-case squash committer (#53)": ("", ADA, ("GitHub", "NoReply@GitHub.com"), None),
    "not the squash committer (#54)": ("", ADA, ("GitHub", "xnoreply@github.com"), None),
    "a committer address as long as GitHub's (#55)": ("", ADA, ("D", "dave@example.co.uk"), None),
    "rebase merged": ("", ADA, None, None),
    "plain": ("", ADA, None, "ui/app.py"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The history, with git isolated from the user's configuration for the whole module."""
    root = tmp_path_factory.mktemp("reviews")
    config = root.parent / "reviews-gitconfig"
    config.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(config))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name, value in IDENTITY.items():
            mp.setenv(name, value)
        git(root, "init", "-q", "-b", "main")
        (root / ".mailmap").write_text("Ada Lovelace <ada@example.com> <ada.old@example.com>\n")
        git(root, "add", ".mailmap")
        git(root, "commit", "-q", "-m", "initial commit")
        for subject, (rest, author, committer, path) in LINEAR.items():
            message = f"{subject}\n\n{rest}\n" if rest else f"{subject}\n"
            _commit(root, message, author=author, committer=committer, path=path)
        # a pull request merged by its author under an upper-case form of her address
        git(root, "checkout", "-q", "-b", "own", "main")
        _commit(root, "merged by its author\n", path="own.txt")
        git(root, "checkout", "-q", "main")
        _merge(root, "own", "Merge pull request #60 from org/own", ("Ada", "ADA@Example.com"))
        # a pull request merged by someone else, twice linked (a forge map names it too)
        git(root, "checkout", "-q", "-b", "other", "main")
        _commit(root, "merged by bob\n", path="other.txt")
        git(root, "checkout", "-q", "main")
        _merge(root, "other", "Merge pull request #61 from org/other", BOB)
        yield root


@pytest.fixture(scope="module")
def history_(built: Path) -> tuple[list[Commit], dict[str, str]]:
    commits = history.read(built, history.commit_range(built, "HEAD", all_history=True))
    values = {v for c in commits for _, v in c.trailers}
    values |= {"ada@example.com", "ada.old@example.com", "bob@example.com"}  # the forge's
    return commits, history.mailmap(built, values)


FORGE_USERS = {"ada": ("ada@example.com",), "bob": ("bob@example.com",)}


def _by_subject(
    history_: tuple[list[Commit], dict[str, str]],
    settings: Settings | None = None,
    forge: ForgeReviews | None = None,
) -> dict[str, CommitReview]:
    commits, emails = history_
    found = classify(commits, emails, settings or Settings(), forge)
    return {r.commit.subject: r for r in found}


def _forge(history_: tuple[list[Commit], dict[str, str]], **approvals: str) -> ForgeReviews:
    commits, _ = history_
    rebased = next(c.id for c in commits if c.subject == "rebase merged")
    by_number = {int(k[1:]): tuple(v.split(",")) for k, v in approvals.items()}
    return ForgeReviews(approvals=by_number, commits={rebased: 70}, users=FORGE_USERS)


def test_every_non_merge_commit_once_in_history_order(history_) -> None:
    commits, _ = history_
    reviews = _by_subject(history_)
    assert [r.commit.id for r in classify(commits, history_[1], Settings())] == [
        c.id for c in commits if len(c.parents) <= 1
    ]
    assert len(reviews) == len(LINEAR) + 3


def test_the_authors_address_is_compared_case_insensitively(history_) -> None:
    r = _by_subject(history_)["upper-case author"]
    assert (r.reviewed, r.independent) == (True, False)


def test_a_merge_by_the_author_under_another_case_is_not_independent(history_) -> None:
    reviews = _by_subject(history_)
    own, other = reviews["merged by its author"], reviews["merged by bob"]
    assert own.prs == (PrLink(60, "merge", own.prs[0].merge, "ada@example.com"),)
    assert (own.reviewed, own.independent, own.pr_merged) == (True, False, True)
    assert (other.reviewed, other.independent, other.pr_merged) == (True, True, True)
    assert other.prs[0].merge_author_email == "bob@example.com"


def test_a_forge_approval_by_a_co_author_is_not_independent(history_) -> None:
    reviews = _by_subject(history_, forge=_forge(history_, p50="bob"))
    r = reviews["co-author approved it (#50)"]
    assert r.forge_approvers == ("bob",)
    assert (r.reviewed, r.independent) == (True, False)


def test_a_self_approval_in_the_forge_does_not_undo_an_independent_trailer(history_) -> None:
    r = _by_subject(history_, forge=_forge(history_, p51="ada"))["reviewed, self-approved (#51)"]
    assert (r.reviewed, r.independent, r.forge_approvers) == (True, True, ("ada",))


def test_the_authors_noreply_address_ties_her_forge_login_to_her(history_) -> None:
    reviews = _by_subject(history_, forge=_forge(history_, p52="ada"))
    r = reviews["noreply author (#52)"]
    assert (r.reviewed, r.independent) == (True, False)
    reviews = _by_subject(history_, forge=_forge(history_, p52="bob"))
    r = reviews["noreply author (#52)"]
    assert (r.reviewed, r.independent) == (True, True)


def test_a_forge_login_is_its_address_after_mailmap(history_) -> None:
    """The export knows Ada only by an old address that .mailmap maps to her current one."""
    forge = replace(_forge(history_, p50="ada"), users={"ada": ("ada.old@example.com",)})
    r = _by_subject(history_, forge=forge)["co-author approved it (#50)"]
    assert (r.reviewed, r.independent, r.forge_approvers) == (True, False, ("ada",))


def test_forge_approvals_of_every_linked_pull_request_sorted_and_once(history_) -> None:
    forge = _forge(history_, p70="bob,ada", p61="carol,ada")
    reviews = _by_subject(history_, forge=forge)
    rebased = reviews["rebase merged"]
    assert rebased.prs == (PrLink(70, "forge"),)
    assert rebased.forge_approvers == ("ada", "bob")
    assert (rebased.reviewed, rebased.independent, rebased.pr_merged) == (True, True, False)
    bob = reviews["merged by bob"]
    assert bob.forge_approvers == ("ada", "carol")
    # an approval by an unmapped login proves nothing about who approved
    alone = _by_subject(history_, forge=_forge(history_, p70="carol"))["rebase merged"]
    assert (alone.reviewed, alone.independent, alone.forge_approvers) == (True, False, ("carol",))


def test_a_forge_link_alone_is_not_a_pull_request_merge(history_) -> None:
    settings = Settings(pr_merge_counts_as_review=True)
    r = _by_subject(history_, settings, forge=_forge(history_))["rebase merged"]
    assert (r.reviewed, r.independent, r.pr_merged, r.forge_approvers) == (False, False, False, ())


def test_a_forge_link_is_added_to_the_links_git_gives(history_) -> None:
    commits, _ = history_
    bob = next(c.id for c in commits if c.subject == "merged by bob")
    forge = replace(_forge(history_), commits={bob: 61})
    r = _by_subject(history_, forge=forge)["merged by bob"]
    assert [(x.number, x.via) for x in r.prs] == [(61, "merge"), (61, "forge")]
    assert (r.reviewed, r.independent, r.pr_merged) == (True, True, True)


def test_squash_merges_by_githubs_committer_in_any_case(history_) -> None:
    reviews = _by_subject(history_)
    upper = reviews["upper-case squash committer (#53)"]
    assert upper.prs == (PrLink(53, "squash"),)
    assert (upper.reviewed, upper.independent, upper.pr_merged) == (True, False, True)
    for subject in (
        "not the squash committer (#54)",
        "a committer address as long as GitHub's (#55)",
    ):
        other = reviews[subject]
        assert (other.prs, other.reviewed, other.pr_merged) == ((), False, False)
    off = _by_subject(history_, Settings(pr_merge_counts_as_review=False))
    assert (off["upper-case squash committer (#53)"].reviewed, off["merged by bob"].reviewed) == (
        False,
        False,
    )
    assert off["merged by bob"].independent  # still independent: recorded, not counted


SECURITY = {
    # subject: (security-critical, security-reviewed)
    "security reviewer without address": (True, False),
    "security reviewed by the co-author": (True, False),
    "security reviewed": (True, True),
    "acked on a critical path": (True, False),
    "mailmapped security reviewer": (True, False),
    "plain": (False, False),
    "upper-case author": (False, False),
}


def test_security_reviews_on_critical_paths(history_) -> None:
    reviews = _by_subject(history_, Settings(security_critical_paths=("crypto/**",)))
    found = {s: (reviews[s].security_critical, reviews[s].security_reviewed) for s in SECURITY}
    assert found == SECURITY
    assert (reviews["acked on a critical path"].independent) is True
    assert (reviews["security reviewer without address"].independent) is False
    unset = _by_subject(history_)
    assert not any(r.security_critical or r.security_reviewed for r in unset.values())


@pytest.mark.parametrize(
    ("subject", "body", "number"),
    [
        ("Merge pull request #7 from org/x", "", 7),
        ("Merge pull request #x from org/x", "", None),
        ("merge pull request #7 from org/x", "", None),
        ("Merge branch 'x'", "GitLab title\n\nSee merge request grp/proj!9\n", 9),
        ("Merge branch 'x'", "See merge request grp/proj!9 and more", None),
        ("Merge branch 'x' (#10)", "", 10),
        ("Merge branch 'x' (#10) then more", "", None),
        ("Merge branch 'x'", "", None),
    ],
)
def test_merge_request_number(subject: str, body: str, number: int | None) -> None:
    merge = Commit("m" * 40, ("a" * 40, "b" * 40), "A", "a@x", "a@x", (), subject, body, ())
    assert merge_request(merge) == number


def test_pr_links_need_a_pull_request_merge(history_) -> None:
    commits, _ = history_
    links = pr_links(commits)
    by_id = {c.id: c.subject for c in commits}
    found = sorted((by_id[k], [(x.number, x.via) for x in v]) for k, v in links.items())
    assert found == [
        ("co-author approved it (#50)", [(50, "squash")]),
        ("merged by bob", [(61, "merge")]),
        ("merged by its author", [(60, "merge")]),
        ("noreply author (#52)", [(52, "squash")]),
        ("reviewed, self-approved (#51)", [(51, "squash")]),
        ("upper-case squash committer (#53)", [(53, "squash")]),
    ]


GLOBS = [
    # pattern, paths it matches, paths it does not
    (
        "src/crypto/**",
        ["src/crypto/aes.py", "src/crypto/a/b.py"],
        ["src/cryptox/a.py", "src/crypto"],
    ),
    ("**/secret.py", ["secret.py", "a/b/secret.py", "secret.py/x"], ["a/xsecret.py", "secret.pyc"]),
    ("src/**/x.py", ["src/x.py", "src/a/b/x.py"], ["srcx.py", "lib/src/x.py"]),
    ("*.py", ["a.py", "a.py/b"], ["dir/a.py", "a.pyc", "a_py"]),
    ("?.c", ["a.c"], ["ab.c", ".c", "a/.c"]),
    ("src/?.c", ["src/a.c"], ["src/ab.c", "src/a/.c", "a.c"]),
    ("/docs/", ["docs", "docs/x.md", "docs/a/b"], ["docsx", "a/docs", "/docs"]),
    ("docs", ["docs", "docs/x.md"], ["docs.md", "mydocs"]),
    ("a**b", ["ab", "a/x/b", "axb"], ["ba", "a/x/c"]),
    ("**", ["x", "a/b/c"], []),
    ("XML/X", ["XML/X", "XML/X/y"], ["ML/", "XML/Xy"]),
    ("a+b(c)", ["a+b(c)", "a+b(c)/d"], ["aab(c)", "a+bc"]),
]


@pytest.mark.parametrize(("pattern", "yes", "no"), GLOBS)
def test_path_globs(pattern: str, yes: list[str], no: list[str]) -> None:
    matcher = path_matcher([pattern])
    assert matcher is not None
    assert [p for p in yes if not matcher.match(p)] == []
    assert [p for p in no if matcher.match(p)] == []


def test_path_globs_combined_and_none() -> None:
    assert path_matcher([]) is None
    matcher = path_matcher(["a/*.py", "b/**"])
    assert matcher is not None
    assert [p for p in ("a/x.py", "b/c/d", "a/c/x.py", "c/b/x") if matcher.match(p)] == [
        "a/x.py",
        "b/c/d",
    ]
