from __future__ import annotations

from datetime import datetime, timezone

import pytest
import release_factory
from release_factory import Release

from sdl_tracker.exporters import package
from sdl_tracker.exporters.release import gather
from sdl_tracker.exporters.source import Source
from sdl_tracker.workspace import open_workspace


@pytest.fixture(scope="session")
def release_repo(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """One gated release for the whole session (built once: ~4 s). Tests must not change it:
    copy it (`copy_repo`) first."""
    return release_factory.shared(tmp_path_factory)


@pytest.fixture
def released(release_repo: Release, git_env: None) -> Release:
    """The session's release, with git isolated for this test."""
    return release_repo


@pytest.fixture
def source(released: Release) -> Source:
    ws = open_workspace(released.repo)
    return gather(ws, release=released.tag, policy_file=None, now=_never())


@pytest.fixture
def files(source: Source) -> dict[str, bytes]:
    return package.contents(source)


def _never() -> datetime:
    # A release is judged at its gate verdict's time; this `now` must not be used.
    return datetime(1999, 1, 1, tzinfo=timezone.utc)
