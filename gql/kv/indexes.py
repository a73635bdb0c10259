"""Index values as apps really store them: read every id kvgraph can, keep everything else.

An index key should hold a JSON array of string ids, but hand-written service layers store
numbers (`1732723200000`), objects (`{"placeId": "r1", "savedAt": ...}`) and arrays encoded
twice (`"[\\"item_1\\"]"`). This module is the one reader of index values, used by the
repository, `check` and the request loaders:

- a string is an id; a number is read as an id (its JSON text);
- an object names the id under `id`, or else under its only `...Id` field (`placeId`);
- a JSON string that encodes an array is read as that array (and written back encoded);
- any other element (null, a boolean, a nested array, an object without one id) is an
  element kvgraph does not understand: it is reported, and kept in place by every write;
- a value that is not an array at all is unreadable: reported, and never overwritten.

Edits keep the stored form of the elements they do not touch (numbers stay numbers, objects
stay objects); new entries are plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import jsontext
from gql.kv.base import Raw

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Element:
    """One stored element of an index and the id it names (None: not understood)."""

    raw: Any
    id: str | None


class IndexValue:
    """A stored index value read as ids, with what kvgraph does not understand.

    A plain array of strings (the common case) keeps just its ids; the elements are built
    only when an edit or a report needs them.
    """

    __slots__ = ("_elements", "encoded", "ids", "unreadable")

    def __init__(
        self,
        elements: Sequence[Element] = (),
        encoded: bool = False,
        unreadable: str | None = None,
        *,
        plain: list[str] | None = None,
    ) -> None:
        self.encoded = encoded  # stored as a JSON string holding the array
        self.unreadable = unreadable  # why the value is not an array at all
        self._elements: tuple[Element, ...] | None = None if plain is not None else tuple(elements)
        self.ids: list[str] = (
            plain if plain is not None else [e.id for e in elements if e.id is not None]
        )

    @property
    def elements(self) -> tuple[Element, ...]:
        """Every stored element with the id it names."""
        if self._elements is None:
            self._elements = tuple(Element(i, i) for i in self.ids)
        return self._elements

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IndexValue):
            return NotImplemented
        mine = (self.elements, self.encoded, self.unreadable)
        return mine == (other.elements, other.encoded, other.unreadable)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IndexValue({list(self.elements)!r}, encoded={self.encoded}, {self.unreadable!r})"

    @property
    def numbers(self) -> bool:
        """Whether some element is a number that is not an integer (a double may have
        rounded its digits)."""
        if self._elements is None:
            return False
        return any(type(e.raw) is float for e in self._elements)

    @property
    def unknown(self) -> list[tuple[int, Any]]:
        """(position, stored element) of every element kvgraph does not understand."""
        if self._elements is None:
            return []
        return [(n, e.raw) for n, e in enumerate(self._elements) if e.id is None]

    @property
    def clean(self) -> bool:
        """Whether every element is understood (the value may still be encoded)."""
        return self.unreadable is None and not self.unknown

    def problem(self) -> str | None:
        """What kvgraph cannot read in this value, in one line (None when it reads it all)."""
        if self.unreadable is not None:
            return self.unreadable
        unknown = self.unknown
        if not unknown:
            return None
        shown = ", ".join(f"{n} ({_describe_element(raw)})" for n, raw in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        return f"element(s) {shown}{more} are not ids; kept as they are"

    def with_id(self, id_: str, position: int | None = None) -> IndexValue:
        """This value with `id_` once, at `position` among the ids (None or past the end:
        last); an element already naming it keeps its stored form."""
        old = next((e for e in self.elements if e.id == id_), Element(id_, id_))
        rest = [e for e in self.elements if e.id != id_]
        at = len(rest)
        if position is not None:
            known = [n for n, e in enumerate(rest) if e.id is not None]
            at = known[max(position, 0)] if max(position, 0) < len(known) else len(rest)
        return self._with([*rest[:at], old, *rest[at:]])

    def without(self, id_: str) -> IndexValue:
        """This value without any element naming `id_`."""
        return self._with([e for e in self.elements if e.id != id_])

    def only(self, keep: Sequence[Element]) -> IndexValue:
        """This value with `keep` as its elements (the same encoding)."""
        return self._with(keep)

    def _with(self, elements: Sequence[Element]) -> IndexValue:
        return IndexValue(elements, self.encoded)

    def stored(self) -> Any:
        """The value to store: the elements in their stored form, encoded again if they were."""
        value = [e.raw for e in self.elements]
        return jsontext.encode(value) if self.encoded else value


def element_id(element: Any) -> str | None:
    """The id a stored element names, or None when kvgraph does not understand it."""
    if isinstance(element, str):
        return element
    if isinstance(element, bool):  # a bool is an int to Python, never an id
        return None
    if isinstance(element, int | float):
        return jsontext.encode(element)
    if isinstance(element, dict):
        found = element.get("id", _MISSING)
        if found is _MISSING:
            named = [name for name in element if isinstance(name, str) and name.endswith("Id")]
            found = element[named[0]] if len(named) == 1 else None
        return element_id(found) if isinstance(found, str | int | float) else None
    return None


def read(value: Any) -> IndexValue:
    """Read a decoded stored index value (None: missing, an empty index)."""
    if value is None:
        return IndexValue()
    if type(value) is list and all(type(v) is str for v in value):
        return IndexValue(plain=value)  # the common case, fast
    if isinstance(value, jsontext.Unreadable):
        return IndexValue(unreadable=value.reason)
    encoded = False
    if isinstance(value, str):
        try:
            value, encoded = jsontext.decode(value), True
        except jsontext.Undecodable:
            return IndexValue(unreadable="a string that is not a JSON array of ids")
    if not isinstance(value, list):
        what = "a JSON string holding " if encoded else ""
        return IndexValue(unreadable=f"{what}{_describe(value)}, not an array of ids")
    return IndexValue(tuple(Element(v, element_id(v)) for v in value), encoded)


def read_raw(raw: Raw | None) -> IndexValue:
    """Read an index value given as stored JSON text (None: missing), as the read path does:
    orjson alone, unless a number element needs its exact digits as an id."""
    if raw is None:
        return IndexValue()
    found = read(jsontext.read(raw, exact=False))
    if found.numbers:
        return read(jsontext.read(raw))
    return found


def _describe_element(value: Any) -> str:
    """Why an element is not understood, in a few words."""
    if isinstance(value, dict):
        return "an object without `id` or exactly one `...Id` field"
    if isinstance(value, jsontext.Kept):
        return f"{value.reason}, kept as stored"
    return _describe(value)


def _describe(value: Any) -> str:
    """A short name for a JSON value's kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
