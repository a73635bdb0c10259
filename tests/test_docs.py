"""The docs hold together: every relative link in README.md, CHANGELOG.md and docs/*.md
names a file that exists (and a heading that exists, for `#anchor` links), and the README
keeps the test command CI runs verbatim, under the heading the docs link to.

The README was split into docs/ pages whose sections point at each other; a renamed heading
or moved page would otherwise leave links that only a reader finds broken.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text without fenced code blocks and indented code lines."""
    text = FENCE.sub("", text)
    return "\n".join(line for line in text.splitlines() if not line.startswith("    "))


def anchors(page: Path) -> set[str]:
    """The anchors GitHub makes for a page's headings (lowercase, punctuation dropped,
    spaces as hyphens, repeats numbered)."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6} +(.*?)\s*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(page: Path) -> list[str]:
    """The relative link targets of a page's prose (not those inside code)."""
    text = INLINE_CODE.sub("", prose(page.read_text(encoding="utf-8")))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def broken(page: Path) -> list[str]:
    """Each link of `page` whose file or heading does not exist, with why."""
    problems = []
    for target in links(page):
        path_part, _, anchor = target.partition("#")
        file = (page.parent / path_part).resolve() if path_part else page
        if not file.exists():
            problems.append(f"{target}: no such file")
            continue
        if anchor and file.suffix == ".md" and anchor not in anchors(file):
            problems.append(f"{target}: no such heading")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_an_existing_file_and_heading(page: Path) -> None:
    assert links(page), "a page with no links to check"
    assert broken(page) == []


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## A `code` heading: here\n")
    page.write_text(
        "# Page\n\n[ok](other.md#a-code-heading-here) [self](#page) [web](https://x.org)\n"
        "[gone](missing.md) [no heading](other.md#nope) `[code](missing.md)`\n\n"
        "```md\n[fenced](missing.md)\n```\n"
    )
    assert [p.split(":")[0] for p in broken(page)] == ["missing.md", "other.md#nope"]


def test_the_readme_keeps_the_ci_test_command_under_running_the_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r'"(python3 -m venv .venv && [^"]+)"', ci)
    assert command, "the test command in .ci/run"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Running the tests\n", 1)[1].split("\n## ", 1)[0]
    assert f"\n    {command.group(1)}\n" in section
