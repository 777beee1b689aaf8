"""The terminal writer shows control characters as escapes and keeps only its own colours."""

from __future__ import annotations

import json

import pytest

from sdl_tracker import output

HOSTILE = "id\x1b[2J\x1b[31mred\r\x00\x85\u2028\u202eevil\u2066\t\n"


@pytest.fixture(autouse=True)
def _colour() -> object:
    output.set_color("always")
    yield
    output.set_color("never")


def test_err_and_out_escape_controls_and_keep_our_colours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.err(f"{output.paint('Failing', 'red')} {output.field(HOSTILE)}")
    output.err(HOSTILE)
    output.out(HOSTILE)
    out, err = capsys.readouterr()
    first, second = err.split("\n", 1)
    assert first == (
        "\x1b[31mFailing\x1b[0m id\\x1b[2J\\x1b[31mred\\x0d\\x00\\x85\\u2028"
        "\\u202eevil\\u2066\\t\\n"
    )
    # Text that did not go through `field`: every control escaped but one of our own colours,
    # which cannot move the cursor or redraw a line.
    assert second == "id\\x1b[2J\x1b[31mred\\x0d\\x00\\x85\\u2028\\u202eevil\\u2066\t\n\n"
    assert out.startswith("id\\x1b[2J") and "\r" not in out


def test_field_keeps_a_value_on_one_line_and_is_idempotent() -> None:
    once = output.field(HOSTILE)
    assert "\n" not in once and "\t" not in once and once.endswith("\\t\\n")
    assert output.field(once) == once
    line = output.status_line(f"SR-2 {HOSTILE}", "Failing", "red")
    assert line.count("\n") == 0 and "\r" not in line


def test_json_output_is_the_same_value_without_raw_controls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.write_json({"id": HOSTILE})
    out = capsys.readouterr().out
    assert json.loads(out) == {"id": HOSTILE}
    assert not any(c in out for c in "\x1b\r\x00\x85\u2028\u202e\u2066")
