"""`paginate`: Relay paging over real indexes (duplicates, missing and invalid records)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from resolvers.errors import ClientError
from resolvers.loaders import Listing
from resolvers.paging import DEFAULT_PAGE, MAX_PAGE, Page, PageArgs, paginate

# An index as apps leave it: duplicates ("a", "c"), a dangling id ("gone"), invalid records.
SLOPPY = ["a", "b", "a", "gone", "c", "bad1", "bad2", "bad3", "d", "c", "e"]
READABLE = ["a", "b", "c", "d", "e"]


class Records:
    """A fake record source: upper-cased ids, None for unreadable ones; counts its reads."""

    def __init__(self, unreadable: set[str] | None = None) -> None:
        self.unreadable = unreadable if unreadable is not None else {"gone", "bad1", "bad2", "bad3"}
        self.reads: list[list[str]] = []

    async def __call__(self, refs: Sequence[str]) -> list[Any]:
        self.reads.append(list(refs))
        return [None if r in self.unreadable else r.upper() for r in refs]


def ids(page: Page) -> list[str]:
    return [node.lower() for node in page.nodes]


async def walk_forward(refs: list[str], size: int, load: Records) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(len(refs) + 2):  # a walk that does not end fails the test
        page = await paginate(refs, PageArgs(first=size, after=after), load)
        seen += ids(page)
        info = page.page_info
        assert [e.cursor for e in page.edges][:1] == ([info.start_cursor] if page.edges else [])
        if not info.has_next_page:
            return seen
        after = info.end_cursor
    raise AssertionError("the forward walk did not end")


async def walk_backward(refs: list[str], size: int, load: Records) -> list[str]:
    seen: list[str] = []
    before = None
    for _ in range(len(refs) + 2):
        page = await paginate(refs, PageArgs(last=size, before=before), load)
        seen = ids(page) + seen
        if not page.page_info.has_previous_page:
            return seen
        before = page.page_info.start_cursor
    raise AssertionError("the backward walk did not end")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 20])
async def test_walks_visit_every_readable_record_once(size: int) -> None:
    assert await walk_forward(SLOPPY, size, Records()) == READABLE
    assert await walk_backward(SLOPPY, size, Records()) == READABLE


async def test_a_stretch_of_unreadable_records_is_read_past() -> None:
    page = await paginate(SLOPPY, PageArgs(first=1, after=None), Records())
    page2 = await paginate(SLOPPY, PageArgs(first=2, after=page.page_info.end_cursor), Records())
    load = Records()
    # after "c": bad1..bad3 are skipped while the page is filled with d and e
    page3 = await paginate(SLOPPY, PageArgs(first=2, after=page2.page_info.end_cursor), load)
    assert ids(page3) == ["d", "e"] and not page3.page_info.has_next_page
    assert sum(len(r) for r in load.reads) <= 6  # reads forward in chunks, never the list twice


async def test_a_list_of_only_unreadable_records_is_one_empty_page() -> None:
    refs = ["x1", "x2", "x2", "x3"]
    page = await paginate(refs, PageArgs(first=2), Records(unreadable=set(refs)))
    assert page.nodes == [] and page.edges == []
    info = page.page_info
    assert (info.has_next_page, info.start_cursor, info.end_cursor) == (False, None, None)
    assert await page.count() == 0


async def test_cursors_are_the_first_and_last_edges() -> None:
    page = await paginate(SLOPPY, PageArgs(first=3), Records())
    cursors = [e.cursor for e in page.edges]
    assert ids(page) == ["a", "b", "c"]
    assert (page.page_info.start_cursor, page.page_info.end_cursor) == (cursors[0], cursors[-1])


async def test_total_count_is_what_a_walk_returns() -> None:
    page = await paginate(SLOPPY, PageArgs(first=1), Records())
    assert await page.count() == len(READABLE)
    assert await Page.counts([page, page]) == [5, 5]


async def test_has_next_page_is_exact_forward() -> None:
    # the last readable record ends the list although unreadable ones follow it
    refs = ["a", "b", "gone", "bad1"]
    page = await paginate(refs, PageArgs(first=2), Records())
    assert ids(page) == ["a", "b"] and page.page_info.has_next_page is False


async def test_cursor_survives_inserts_and_removal() -> None:
    refs = ["a", "b", "c", "d"]
    first = await paginate(refs, PageArgs(first=2), Records(set()))
    after = first.page_info.end_cursor
    inserted = await paginate(["x", "y", *refs], PageArgs(first=2, after=after), Records(set()))
    assert ids(inserted) == ["c", "d"]
    removed = await paginate(["a", "c", "d"], PageArgs(first=2, after=after), Records(set()))
    assert ids(removed) == ["c", "d"]  # "b" is gone: resume where it stood


async def test_after_and_before_bound_the_range() -> None:
    refs = list("abcdef")
    load = Records(set())
    whole = await paginate(refs, PageArgs(first=6), load)
    cursor = {e.node.lower(): e.cursor for e in whole.edges}
    page = await paginate(refs, PageArgs(first=10, after=cursor["a"], before=cursor["e"]), load)
    assert ids(page) == ["b", "c", "d"]
    page = await paginate(refs, PageArgs(last=2, after=cursor["a"], before=cursor["e"]), load)
    assert ids(page) == ["c", "d"] and page.page_info.has_previous_page


async def test_default_and_maximum_sizes() -> None:
    refs = [f"r{n}" for n in range(150)]
    assert len((await paginate(refs, PageArgs(), Records(set()))).nodes) == DEFAULT_PAGE
    assert len((await paginate(refs, PageArgs(first=MAX_PAGE), Records(set()))).nodes) == 100
    empty = await paginate(refs, PageArgs(first=0), Records(set()))
    assert empty.nodes == [] and empty.page_info.has_next_page


@pytest.mark.parametrize(
    "args",
    [
        PageArgs(first=MAX_PAGE + 1),
        PageArgs(first=-1),
        PageArgs(last=-1),
        PageArgs(first=1, last=1),
        PageArgs(after="not-a-cursor"),
        PageArgs(before="%%%"),
    ],
)
async def test_bad_arguments_are_client_errors(args: PageArgs) -> None:
    with pytest.raises(ClientError) as caught:
        await paginate(["a"], args, Records(set()))
    assert caught.value.code == "BAD_USER_INPUT"


@pytest.mark.parametrize("mask", list(itertools.product([True, False], repeat=6)))
async def test_every_mix_of_readable_and_unreadable_walks_cleanly(mask: tuple[bool, ...]) -> None:
    refs = [f"r{n}" for n in range(6)]
    unreadable = {r for r, bad in zip(refs, mask, strict=True) if bad}
    expected = [r for r in refs if r not in unreadable]
    for size in (1, 2, 4):
        assert await walk_forward(refs * 2, size, Records(unreadable)) == expected
        assert await walk_backward(refs * 2, size, Records(unreadable)) == expected


async def test_parents_sharing_a_listing_count_it_once() -> None:
    """A listing (one index, read once per request) is counted once for any number of pages
    and parents, also when they all ask at the same time."""
    load = Records()
    listing = Listing(SLOPPY)
    pages = [await paginate(listing, PageArgs(first=1), load, kind="x") for _ in range(50)]
    load.reads.clear()
    assert await Page.counts(pages) == [len(READABLE)] * 50
    assert await asyncio.gather(*(page.count() for page in pages)) == [len(READABLE)] * 50
    assert load.reads == [list(listing.ids)]  # one read of the whole list, duplicates once


async def test_a_failed_count_is_not_kept() -> None:
    load = Records()
    page = await paginate(Listing(["a", "b"]), PageArgs(first=1), load, kind="x")
    failing = Records()

    async def broken(refs: Sequence[str]) -> list[Any]:
        raise RuntimeError("store down")

    page._load = broken  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        await page.count()
    page._load = failing  # type: ignore[assignment]
    assert await page.count() == 2
