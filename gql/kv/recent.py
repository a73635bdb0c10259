"""What was read most recently, kept up to a number of characters.

The read caches keyed by stored text (an SQLite store's recognised reads, the loaders' index
ids) hold a few megabytes at most whatever a process reads: each entry is charged its text's
size, and the least recently used go first. The texts decide what an entry is worth, so a
dropped one only costs reading it again.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Values by key, at most `chars` characters of them in all (each charged the size it
    was kept with), the least recently used dropped first; one bigger than that is not kept."""

    def __init__(self, chars: int) -> None:
        self.chars, self.held = chars, 0
        self._found: dict[K, tuple[V, int]] = {}

    def get(self, key: K) -> V | None:
        """The value kept under `key` (now the most recently used), if any."""
        item = self._found.pop(key, None)
        if item is None:
            return None
        self._found[key] = item
        return item[0]

    def keep(self, key: K, value: V, size: int) -> None:
        """Keep `value` under `key`, charged `size` characters, dropping the least recently
        used to make room."""
        old = self._found.pop(key, None)
        if old is not None:
            self.held -= old[1]
        if size > self.chars:
            return
        while self._found and self.held + size > self.chars:
            self.held -= self._found.pop(next(iter(self._found)))[1]
        self._found[key] = (value, size)
        self.held += size
