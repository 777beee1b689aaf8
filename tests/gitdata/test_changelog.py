from __future__ import annotations

import pytest

from sdl_tracker.gitdata.changelog import release_notes

NOTES = """\
# Changelog

## v2.0.0 (2024-07-01)

Breaking changes.

### Security

- CVE-2024-0001, CVE-2024-0001 again, GHSA-2c5q-p9vm-9f3x

#### Details

- RUSTSEC-2024-0003 and GO-2024-1234 (still inside the security section)

### Fixed

- CVE-1999-0001 is outside the security section

Version 1.0.0
=============

Setext security
---------------

- PYSEC-2023-10
"""


@pytest.mark.parametrize(
    ("tag", "release", "security", "advisories"),
    [
        (
            "v2.0.0",
            "v2.0.0 (2024-07-01)",
            "Security",
            ("CVE-2024-0001", "GHSA-2c5q-p9vm-9f3x", "RUSTSEC-2024-0003", "GO-2024-1234"),
        ),
        ("2.0.0", "v2.0.0 (2024-07-01)", "Security", None),
        ("v1.0.0", "Version 1.0.0", "Setext security", ("PYSEC-2023-10",)),
        ("v2.0", None, None, ()),
        ("v2.0.0-rc1", None, None, ()),
    ],
)
def test_release_notes(
    tag: str, release: str | None, security: str | None, advisories: tuple[str, ...] | None
) -> None:
    notes = release_notes(NOTES, tag)
    assert notes.release_heading == release
    assert notes.security_heading == security
    if advisories is not None:
        assert notes.advisories == advisories


def test_security_heading_outside_the_release_does_not_count() -> None:
    text = "## 1.1.0\n\n- nothing\n\n## Security policy\n\n- CVE-2024-0001\n"
    notes = release_notes(text, "v1.1.0")
    assert notes.release_heading == "1.1.0"
    assert notes.security_heading is None


def test_fenced_headings_are_ignored() -> None:
    text = "## 1.0.0\n\n```\n### Security\n```\n\n~~~\n### Security\n~~~\n"
    assert release_notes(text, "1.0.0").security_heading is None
