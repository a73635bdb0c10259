"""Per-request DataLoaders over the KV store.

`index` reads index arrays and `entity` reads records; both feed one key batch per event-loop
tick, so every batch is exactly one `get_many` and a level of the query that needs records and
index arrays at once (trips and their item indexes) still costs one round trip. Each stored
value is decoded once (by the store, with orjson) and validated once per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from gql.kv.base import JSON, Store
from gql.kv.entities import EntitySpec
from gql.kv.models import InvalidRecord, Record, validate
from gql.kv.repo import as_id_list

Loaded = Record | InvalidRecord | None


class Loaders:
    """The loaders of one request, with its batch counters."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches = 0
        self.keys = 0
        self._raw: DataLoader[str, JSON | None] = DataLoader(load_fn=self._load_batch)
        self._records: dict[str, Loaded] = {}

    async def _load_batch(self, keys: Sequence[str]) -> list[JSON | None]:
        self.batches += 1
        self.keys += len(keys)
        return await self.store.get_many(keys)

    async def raw(self, key: str) -> JSON | None:
        """The decoded value at `key` (None when missing)."""
        return await self._raw.load(key)

    async def index(self, key: str) -> list[str]:
        """The ids an index key lists (missing or malformed index: empty)."""
        return as_id_list(await self._raw.load(key))

    async def entity(self, spec: EntitySpec, *key_args: str) -> Loaded:
        """The validated record of `spec` at these key parameters."""
        key = spec.pattern.key(*key_args)
        if key in self._records:
            return self._records[key]
        value = await self._raw.load(key)
        return self._validated(spec, key, value)

    async def entities(self, spec: EntitySpec, ids: Sequence[str]) -> list[Loaded]:
        """Validated records of `spec` for each id, in order, in one batch."""
        keys = [spec.pattern.literal_prefix + i for i in ids if i and ":" not in i]
        values = iter(await self._raw.load_many(keys))
        # An id that cannot form a key (empty, contains ':') reads as missing.
        return [
            self._validated(spec, spec.pattern.literal_prefix + i, next(values))
            if i and ":" not in i
            else None
            for i in ids
        ]

    def _validated(self, spec: EntitySpec, key: str, value: Any) -> Loaded:
        if key not in self._records:
            self._records[key] = None if value is None else validate(spec.model, key, value)
        return self._records[key]

    def forget(self, *keys: str) -> None:
        """Drop cached values after a write, so the rest of the request reads fresh data."""
        for key in keys:
            if self._raw.cache_map.get(key) is not None:
                self._raw.clear(key)
            self._records.pop(key, None)
