"""JUnit XML (any runner: pytest, Surefire, Gradle, go-junit-report, ...) -> test cases.

Parsed with expat directly, refusing any DTD (so no entity expansion or external entities,
what defusedxml guards against) and keeping line numbers for error messages. Test-case
properties `security_requirement`, `mitigates` and `fixes` (what the sdl-tracker pytest plugin
writes) link a test to requirement, threat and security-issue ids; `fuzz` and
`resource_exhaustion` name the interfaces a fuzz or resource-exhaustion test exercises.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import NoReturn
from xml.parsers import expat

from sdl_tracker.errors import InputError
from sdl_tracker.formats import bounded

REQUIREMENT_PROPERTY = "security_requirement"
THREAT_PROPERTY = "mitigates"
FIX_PROPERTY = "fixes"
FUZZ_PROPERTY = "fuzz"
EXHAUSTION_PROPERTY = "resource_exhaustion"


class Outcome(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestCase:
    """One `<testcase>`: where it is, what happened, what it is linked to."""

    report: str
    line: int
    classname: str
    name: str
    outcome: Outcome
    message: str = ""
    requirements: tuple[str, ...] = ()
    threats: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    """Security-issue ids whose fix the test verifies (property `fixes`)."""
    fuzz: tuple[str, ...] = ()
    """Interfaces the test fuzzes (property `fuzz`)."""
    exhaustion: tuple[str, ...] = ()
    """Interfaces the test drives towards resource exhaustion (property `resource_exhaustion`)."""

    __test__ = False  # not a pytest test class, despite the name

    @property
    def id(self) -> str:
        """`classname::name` (just `name` when the runner gives no class name)."""
        return f"{self.classname}::{self.name}" if self.classname else self.name


_RANK = {"skipped": Outcome.SKIPPED, "failure": Outcome.FAILED, "error": Outcome.ERROR}
_ORDER = (Outcome.PASSED, Outcome.SKIPPED, Outcome.FAILED, Outcome.ERROR)


@dataclass
class _Builder:
    """Expat callbacks (mutable while parsing; only frozen TestCases leave this module)."""

    report: str
    parser: expat.XMLParserType
    cases: list[TestCase] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    case: dict[str, str] | None = None
    case_line: int = 0
    outcome: Outcome = Outcome.PASSED
    message: str = ""
    properties: list[tuple[str, str]] = field(default_factory=list)
    property_name: str | None = None
    property_text: list[str] = field(default_factory=list)

    def fail(self, message: str) -> NoReturn:
        raise InputError(f"{self.report}:{self.parser.CurrentLineNumber}: {message}")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if not self.stack and tag not in ("testsuites", "testsuite"):
            self.fail(f"expected a JUnit report (<testsuites> or <testsuite>), found <{tag}>")
        if tag == "testcase":
            if self.case is not None:
                self.fail("<testcase> inside another <testcase>")
            if not attrs.get("name"):
                self.fail("<testcase> has no name attribute; every test case needs a name")
            self.case, self.case_line = attrs, self.parser.CurrentLineNumber
            self.outcome, self.message, self.properties = Outcome.PASSED, "", []
        elif self.case is not None and tag in _RANK and self.stack[-1] == "testcase":
            new = _RANK[tag]
            if _ORDER.index(new) > _ORDER.index(self.outcome):
                lines = attrs.get("message", "").strip().splitlines()
                self.outcome, self.message = new, lines[0][:200] if lines else tag
        elif self.case is not None and tag == "property":
            if not attrs.get("name"):
                self.fail("<property> has no name attribute")
            self.property_name = attrs["name"]
            self.property_text = [attrs["value"]] if "value" in attrs else []
        self.stack.append(tag)

    def text(self, data: str) -> None:
        if self.property_name is not None and self.stack[-1] == "property":
            self.property_text.append(data)

    def end(self, tag: str) -> None:
        self.stack.pop()
        if tag == "property" and self.property_name is not None:
            self.properties.append((self.property_name, "".join(self.property_text).strip()))
            self.property_name = None
        elif tag == "testcase" and self.case is not None:
            self.cases.append(
                TestCase(
                    report=self.report,
                    line=self.case_line,
                    classname=self.case.get("classname", ""),
                    name=self.case["name"],
                    outcome=self.outcome,
                    message=self.message or "",
                    requirements=_values(self.properties, REQUIREMENT_PROPERTY),
                    threats=_values(self.properties, THREAT_PROPERTY),
                    fixes=_values(self.properties, FIX_PROPERTY),
                    fuzz=_values(self.properties, FUZZ_PROPERTY),
                    exhaustion=_values(self.properties, EXHAUSTION_PROPERTY),
                )
            )
            self.case = None


_OURS = re.compile(
    rb'<testsuite\s[^>]*name="sdl-tracker (?:gate|status) '
    rb'|<property name="generator" value="sdl-tracker '
)


def written_by_sdl_tracker(raw: bytes) -> bool:
    """Whether this JUnit file is sdl-tracker's own gate report (never the product's tests)."""
    return _OURS.search(raw[:8192]) is not None


def parse(report: str, raw: bytes) -> tuple[TestCase, ...]:
    """The test cases of a JUnit XML report; InputError with file and line if malformed."""
    parser = expat.ParserCreate()
    builder = _Builder(report, parser)

    def no_dtd(*_: object) -> None:
        builder.fail(
            "the report has a DTD (<!DOCTYPE ...>); JUnit reports need none and "
            "sdl-tracker refuses them (entity expansion attacks)"
        )

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    depth = bounded.current().depth

    def start(tag: str, attrs: dict[str, str]) -> None:
        if len(builder.stack) >= depth:
            raise bounded.too_deep(f"{report}:{parser.CurrentLineNumber}", depth)
        builder.start(tag, attrs)

    bounded.check(raw, report, "junit")
    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as e:
        raise InputError(
            f"{report}:{e.lineno}:{e.offset}: not well-formed XML: {expat.ErrorString(e.code)}"
        ) from e
    return tuple(builder.cases)


def _values(properties: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for k, v in properties if k == name and v))
