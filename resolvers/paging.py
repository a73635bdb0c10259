"""Relay paging over an ordered list of ids (an index array).

Cursors carry the id, so a page boundary stays put when items are inserted before it; if the
id has since left the list, its old offset is used instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.errors import bad_input
from resolvers.ids import cursor, parse_cursor

DEFAULT_PAGE = 20
MAX_PAGE = 100


@dataclass(slots=True)
class Window:
    """Which slice of the list a page covers."""

    start: int
    end: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.start > 0

    @property
    def has_next(self) -> bool:
        return self.end < self.total


def _position(ids: Sequence[str], token: str, *, after: bool) -> int:
    offset, id_ = parse_cursor(token)
    try:
        at = ids.index(id_)
    except ValueError:
        return min(offset + 1 if after else offset, len(ids))
    return at + 1 if after else at


def _check_size(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_PAGE:
        raise bad_input(f"`{name}` must be between 0 and {MAX_PAGE}")


def window(
    ids: Sequence[str],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Window:
    """Apply Relay arguments to `ids` (default page 20, at most 100)."""
    _check_size("first", first)
    _check_size("last", last)
    if first is not None and last is not None:
        raise bad_input("pass `first` or `last`, not both")
    start = _position(ids, after, after=True) if after else 0
    end = _position(ids, before, after=False) if before else len(ids)
    end = max(start, end)
    if last is not None:
        start = max(start, end - last)
    else:
        end = min(end, start + (DEFAULT_PAGE if first is None else first))
    return Window(start, end, len(ids))


@dataclass(slots=True)
class Edge:
    cursor: str
    node: Any


@dataclass(slots=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class Page:
    """A resolved connection: its nodes (with positions) and the list's length."""

    __slots__ = ("_ids", "_positions", "_win", "nodes")

    def __init__(
        self, win: Window, ids: Sequence[str], nodes: list[Any], positions: list[int]
    ) -> None:
        self._win, self._ids, self.nodes, self._positions = win, ids, nodes, positions

    @property
    def total_count(self) -> int:
        return self._win.total

    @property
    def edges(self) -> list[Edge]:
        return [
            Edge(cursor(p, self._ids[p]), node)
            for p, node in zip(self._positions, self.nodes, strict=True)
        ]

    @property
    def page_info(self) -> PageInfo:
        win, ids = self._win, self._ids
        return PageInfo(
            has_next_page=win.has_next,
            has_previous_page=win.has_previous,
            start_cursor=cursor(win.start, ids[win.start]) if win.end > win.start else None,
            end_cursor=cursor(win.end - 1, ids[win.end - 1]) if win.end > win.start else None,
        )
