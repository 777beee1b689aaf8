from __future__ import annotations

import pytest

from sdl_tracker.errors import InputError
from sdl_tracker.formats.threatmodel.requirements import load, read

from .samples import DATA

FIXTURE = (DATA / "security-requirements.yaml").read_text()


def test_reads_ids_levels_and_capabilities() -> None:
    reqs = read(DATA, "security-requirements.yaml")
    assert reqs is not None
    assert [(r.id, r.security_level, r.capabilities) for r in reqs] == [
        ("SR-1.2", 2, ("CR 1.2",)),
        ("SR-3.1", 2, ("CR 3.4", "CR 3.4 RE(1)")),
    ]
    assert reqs[1].title == "Signed firmware only"


def test_absent_file_is_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert read(tmp_path, "security-requirements.yaml") is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    security_level: 2\n",
            "    security_level: 5\n",
            "reqs.yaml:7: $.requirements[0].security_level: 5 is greater than the maximum of 4",
        ),
        (
            "    capability: CR 1.2\n",
            "    capability: CR1.2\n",
            "reqs.yaml:8: $.requirements[0].capability: 'CR1.2' does not match",
        ),
        (
            "  - id: SR-3.1\n",
            "  - id: SR-1.2\n",
            "reqs.yaml:9: $.requirements[1].id: 'SR-1.2' is already used by requirements[0]",
        ),
        ("  - id: SR-3.1\n", "  - id: sr 3\n", "$.requirements[1].id: 'sr 3' does not match"),
        (
            "    text: The update agent installs",
            "    txt: The update agent installs",
            "$.requirements[1]: 'text' is a required property",
        ),
    ],
)
def test_malformed_requirements(old: str, new: str, expected: str) -> None:
    assert old in FIXTURE
    with pytest.raises(InputError) as e:
        load("reqs.yaml", FIXTURE.replace(old, new, 1).encode())
    assert expected in str(e.value)
