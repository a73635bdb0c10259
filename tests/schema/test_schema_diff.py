"""The schema changes safely: graphql-inspector diffs `schema.graphql` against the last
release's (`tests/schema/released.graphql`, written by `release-schema`), and every breaking
change, every dangerous one that alters what an existing client receives, and every
deprecation (graphql-inspector: non-breaking, but a client should move off the field before
it goes), must be named in CHANGELOG.md's "Unreleased" section.

"Named" means one bullet of that section holds, in backticks, every part of the change's path:
`UserError.code`, or `ItemKind` and `OTHER` (`New enum value `OTHER` in `ItemKind``); a
field's deprecation has the path `UserError.code.@deprecated` (`UserError.code` is `@deprecated`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gql.commands.cli import main
from gql.commands.release_schema import read_released
from gql.schema.build import sdl
from tests.support import node_packages

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "tests" / "schema" / "released.graphql"
CHANGELOG = ROOT / "CHANGELOG.md"
# Dangerous changes that alter what an existing client receives or matches.
MUST_NAME = {
    "ENUM_VALUE_ADDED",
    "UNION_MEMBER_ADDED",
    "OBJECT_TYPE_INTERFACE_ADDED",
    "FIELD_ARGUMENT_DEFAULT_CHANGED",
    "INPUT_FIELD_DEFAULT_VALUE_CHANGED",
}
# Deprecations: what a client must stop using, whatever level graphql-inspector gives them.
DEPRECATIONS = {"FIELD_DEPRECATION_ADDED", "ENUM_VALUE_DEPRECATION_REASON_ADDED"}


@pytest.fixture(scope="module")
def node_dir() -> Path:
    """tests/node with graphql-inspector installed from the lockfile."""
    return node_packages()


def changes(node_dir: Path, old: Path, new: Path) -> list[dict[str, Any]]:
    """graphql-inspector's changes from `old` to `new` (tests/node/diff.mjs)."""
    done = subprocess.run(
        ["node", str(node_dir / "diff.mjs"), str(old), str(new)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def must_name(change: dict[str, Any]) -> bool:
    level, kind = change["level"], change["type"]
    return (
        level == "BREAKING" or kind in DEPRECATIONS or (level == "DANGEROUS" and kind in MUST_NAME)
    )


def unreleased_bullets(changelog: str) -> list[set[str]]:
    """The identifiers in backticks of each bullet of the Unreleased section."""
    start = changelog.index("## [Unreleased]")
    following = changelog.find("\n## [", start + 1)
    section = changelog[start : following if following != -1 else None]
    bullets = re.split(r"\n(?=- )", section)[1:]
    return [
        {word for span in re.findall(r"`([^`]+)`", bullet) for word in re.findall(r"\w+", span)}
        for bullet in bullets
    ]


def named(change: dict[str, Any], bullets: list[set[str]]) -> bool:
    parts = [part.lstrip("@") for part in (change["path"] or "").split(".") if part]
    return bool(parts) and any(set(parts) <= words for words in bullets)


def unnamed(found: list[dict[str, Any]], changelog: str) -> list[str]:
    bullets = unreleased_bullets(changelog)
    return [
        f"{c['level']} {c['type']} `{c['path']}`: {c['message']}"
        for c in found
        if must_name(c) and not named(c, bullets)
    ]


def test_changes_since_the_release_are_named_in_the_changelog(
    node_dir: Path, tmp_path: Path
) -> None:
    current = tmp_path / "schema.graphql"
    current.write_text(sdl(), encoding="utf-8")
    missing = unnamed(changes(node_dir, RELEASED, current), CHANGELOG.read_text("utf-8"))
    assert missing == [], (
        "these schema changes break, change or deprecate what deployed clients use: name each in "
        "CHANGELOG.md's Unreleased section (in backticks, with what a client must do):\n  "
        + "\n  ".join(missing)
    )


def test_graphql_inspector_cli_agrees(node_dir: Path) -> None:
    """`graphql-inspector diff` itself: it fails exactly when a change is breaking."""
    found = changes(node_dir, RELEASED, ROOT / "schema.graphql")
    done = subprocess.run(
        [
            str(node_dir / "node_modules" / ".bin" / "graphql-inspector"),
            "diff",
            str(RELEASED),
            str(ROOT / "schema.graphql"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    breaking = [c for c in found if c["level"] == "BREAKING"]
    assert (done.returncode != 0) == bool(breaking), output
    assert "Detected the following changes" in output or "No changes detected" in output


def test_a_removed_field_fails_until_the_changelog_names_it(node_dir: Path, tmp_path: Path) -> None:
    """The check can fail: a field dropped from the schema is breaking and unnamed."""
    released = read_released(RELEASED.read_text("utf-8")).sdl
    assert "  destination: String\n" in released
    new = tmp_path / "new.graphql"
    trip = released.index("type Trip implements Node {")
    field = released.index("  destination: String\n", trip)
    new.write_text(released[:field] + released[field:].replace("  destination: String\n", "", 1))
    found = changes(node_dir, RELEASED, new)
    assert [(c["level"], c["path"]) for c in found] == [("BREAKING", "Trip.destination")]
    changelog = "## [Unreleased]\n\n- Something else (`Trip.title`).\n"
    assert unnamed(found, changelog) == [
        "BREAKING FIELD_REMOVED `Trip.destination`: Field 'destination' was removed from "
        "object type 'Trip'"
    ]
    changelog += "- **`Trip.destination` is gone.** *Client:* read `Trip.title`.\n"
    assert unnamed(found, changelog) == []


def test_naming_rule() -> None:
    bullets = unreleased_bullets(
        "# Changelog\n\n## [Unreleased]\n\n- New enum value `OTHER` in `ItemKind` and\n"
        "  `MessageRole`.\n- `UserError.code` is an enum.\n\n## [0.1.0]\n\n- `Trip.owner` old\n"
    )
    enum_added = {"type": "ENUM_VALUE_ADDED", "level": "DANGEROUS"}
    assert named({**enum_added, "path": "MessageRole.OTHER"}, bullets)
    assert not named({**enum_added, "path": "SuggestionStatus.OTHER"}, bullets)
    assert named({"path": "UserError.code"}, bullets)
    assert not named({"path": "Trip.owner"}, bullets)  # a released section does not count
    assert not named({"path": None}, bullets)
    assert must_name({"type": "FIELD_REMOVED", "level": "BREAKING"})
    assert must_name(enum_added)
    assert not must_name({"type": "FIELD_ARGUMENT_ADDED", "level": "DANGEROUS"})
    assert not must_name({"type": "ENUM_VALUE_ADDED", "level": "NON_BREAKING"})  # a new enum
    deprecated = {"type": "FIELD_DEPRECATION_ADDED", "level": "NON_BREAKING"}
    assert must_name(deprecated)
    assert not named({**deprecated, "path": "UserError.code.@deprecated"}, bullets)
    deprecation = unreleased_bullets("## [Unreleased]\n\n- `UserError.code` is `@deprecated`.\n")
    assert named({**deprecated, "path": "UserError.code.@deprecated"}, deprecation)


def test_released_schema_is_the_tagged_one() -> None:
    """The committed copy equals `schema.graphql` at the release's git ref, when git has it."""
    released = read_released(RELEASED.read_text("utf-8"))
    git = shutil.which("git")
    has_ref = git is not None and (
        subprocess.run(
            [git, "cat-file", "-e", f"{released.source}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if not has_ref:
        pytest.skip(f"this clone lacks {released.source} (shallow?): nothing to compare with")
    assert git is not None
    tagged = subprocess.run(
        [git, "show", f"{released.source}:schema.graphql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert released.sdl == tagged


def test_release_schema_writes_the_current_schema(tmp_path: Path) -> None:
    out = tmp_path / "released.graphql"
    assert main(["release-schema", "--output", str(out), "--version", "0.2.0"]) == 0
    released = read_released(out.read_text("utf-8"))
    assert (released.version, released.source, released.sdl) == ("0.2.0", "v0.2.0", sdl())
    assert main(["release-schema", "--output", str(out), "--source", "x y"]) == 2
    with pytest.raises(ValueError, match="header"):
        read_released(sdl())
