"""`kvgraph release-schema`: record the schema of a release, which CI diffs every change against.

A clean clone (even a shallow one, without tags) must know the last release's schema, so it
is a committed file, `tests/schema/released.graphql`, written by this command as a release
step (docs/contributing.md): the current SDL under a header naming the version and the git
ref it was released as. `tests/schema/test_schema_diff.py` runs graphql-inspector against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from gql.schema.build import sdl

HEADER = (
    "# The schema of kvgraph {version}, the last release (source: {source}).\n"
    "# CI diffs schema.graphql against it (tests/schema/test_schema_diff.py); breaking changes\n"
    "# must be named in CHANGELOG.md. Written by `python -m gql release-schema`: do not edit.\n"
)
_HEADER = re.compile(r"^# The schema of kvgraph (\S+), the last release \(source: (\S+)\)\.\n")


@dataclass(frozen=True)
class Released:
    """A released schema: its version, the git ref it was released as, its SDL."""

    version: str
    source: str
    sdl: str


def released_text(schema: str, release: str, source: str) -> str:
    """The file's text: the header, then the SDL unchanged."""
    return HEADER.format(version=release, source=source) + schema


def read_released(text: str) -> Released:
    """Parse a file written by `released_text`; ValueError if it has no header."""
    found = _HEADER.match(text)
    if found is None:
        raise ValueError("not a released schema: the header line is missing")
    header_lines = HEADER.count("\n")
    body = "".join(text.splitlines(keepends=True)[header_lines:])
    return Released(found.group(1), found.group(2), body)


def current_version() -> str:
    """kvgraph's installed version (pyproject's `version`)."""
    try:
        return version("kvgraph")
    except PackageNotFoundError:  # not installed: run from a checkout
        return "0+unknown"


def release_schema_command(output: str, release: str | None, source: str | None) -> int:
    """Write the current schema as the released one; 0 on success."""
    release = release or current_version()
    source = source or f"v{release}"
    if not re.fullmatch(r"[\w.+-]+", release) or not re.fullmatch(r"[\w./+-]+", source):
        print("release-schema: --version and --source take a version and a git ref")
        return 2
    Path(output).write_text(released_text(sdl(), release, source), encoding="utf-8")
    print(f"wrote {output}: the schema of kvgraph {release} (tag it {source})")
    return 0
