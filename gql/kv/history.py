"""A conversation's context history (`context:history:{conversationId}`): the contexts it had,
oldest first, at most a configured number of them.

Recording a new context (`record_context`) appends the one it replaces to the history and
drops the oldest snapshots past the cap, in one transaction with the conversation locked.
Dropping from the front would shift every position, so each snapshot carries a sequence
number (`seq`) and a history is paged by those numbers (`sequence`), never by position: a
cursor names a snapshot by number and stays valid while older ones are dropped and newer ones
appended. Snapshots an app wrote without `seq` are numbered one after the previous one (the
first 0), which is their position while nothing was dropped; kvgraph writes the numbers into
them the first time it rewrites the list, so dropping later changes none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import Transaction
from gql.kv.repo import (
    NotFound,
    Repository,
    UnreadableIndex,
    UnreadableRecord,
    _validated,
    check_text,
    iso_utc,
    require_parent,
)

SEQ = "seq"


def _number(value: Any) -> int | None:
    """A stored sequence number (a whole number >= 0), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 and value == int(value) else None


def sequence(values: Sequence[Any]) -> list[int]:
    """The sequence number of each snapshot, strictly increasing: its `seq` when that is a
    whole number above the previous one's, else the previous one's plus one (the first: 0)."""
    out: list[int] = []
    last = -1
    for value in values:
        found = _number(value.get(SEQ)) if isinstance(value, dict) else None
        last = found if found is not None and found > last else last + 1
        out.append(last)
    return out


def appended(values: Sequence[Any], snapshot: Mapping[str, Any], cap: int) -> list[Any]:
    """The history with `snapshot` appended (numbered after the last one), numbers written
    into the snapshots that had none, and only the newest `cap` kept."""
    numbers = sequence(values)
    numbered = [
        {**value, SEQ: n} if isinstance(value, dict) and SEQ not in value else value
        for value, n in zip(values, numbers, strict=True)
    ]
    numbered.append({**snapshot, SEQ: numbers[-1] + 1 if numbers else 0})
    return numbered[-cap:]


def _snapshot(stored: Mapping[str, Any], at: dt.datetime) -> dict[str, Any]:
    """The context as it was, without its conversation id (the key names it)."""
    kept = {name: value for name, value in stored.items() if name not in ("conversationId", SEQ)}
    return {**kept, "recordedAt": iso_utc(at)}


def _readable(repo: Repository, key: str, stored: Any) -> m.Record:
    """The stored context as a record; UnreadableRecord (it is kept) when kvgraph cannot read
    it: not a JSON object, or naming another conversation."""
    record = e.CONTEXT.validate(key, stored, repo.mapping)
    if isinstance(record, m.InvalidRecord):
        raise UnreadableRecord(key, record.message)
    return record


async def record_context(
    repo: Repository, conversation_id: str, patch: Mapping[str, Any], cap: int
) -> tuple[m.Record, bool]:
    """Set a conversation's current context to its stored one with `patch` merged in, and
    append the one it replaces to the history (the newest `cap` snapshots kept), in one
    transaction; whether a snapshot was recorded. NotFound without the conversation; a
    stored context or history kvgraph cannot read is never overwritten."""
    spec = e.CONTEXT
    key, history_key = spec.pattern.key(conversation_id), k.CONTEXT_HISTORY.key(conversation_id)
    check_text(patch)
    parent = m.AIContext(conversation_id=conversation_id)

    async def work(tx: Transaction) -> tuple[m.Record, bool]:
        await require_parent(tx, spec, parent, {})
        stored, history = await tx.get_many([key, history_key])
        write: dict[str, Any] = {}
        if stored is not None:
            _readable(repo, key, stored)
            if history is not None and not isinstance(history, list):
                raise UnreadableIndex(history_key, f"a JSON {type(history).__name__}, not a list")
            at = dt.datetime.now(dt.UTC)
            write[history_key] = appended(history or [], _snapshot(stored, at), cap)
        base = stored if stored is not None else {"conversationId": conversation_id}
        merged = repo._merged(spec, base, patch)  # the app's names kept, updatedAt stamped
        record = _validated(spec, key, merged, repo.mapping)
        write[key] = merged
        await tx.set_many(write)
        return record, stored is not None

    return await repo.transact(work)


async def clear_context(repo: Repository, conversation_id: str, cap: int) -> m.Record:
    """Delete a conversation's current context, appending it to the history as its newest
    snapshot (the newest `cap` kept), in one transaction; the context deleted. NotFound
    without the conversation or without a context; one kvgraph cannot read is kept."""
    spec = e.CONTEXT
    key, history_key = spec.pattern.key(conversation_id), k.CONTEXT_HISTORY.key(conversation_id)
    parent = m.AIContext(conversation_id=conversation_id)

    async def work(tx: Transaction) -> m.Record:
        await require_parent(tx, spec, parent, {})
        stored, history = await tx.get_many([key, history_key])
        if stored is None:
            raise NotFound("the conversation has no context", "conversationId")
        record = _readable(repo, key, stored)
        if history is not None and not isinstance(history, list):
            raise UnreadableIndex(history_key, f"a JSON {type(history).__name__}, not a list")
        snapshot = _snapshot(stored, dt.datetime.now(dt.UTC))
        await tx.set(history_key, appended(history or [], snapshot, cap))
        await tx.delete_many([key])
        return record

    return await repo.transact(work)
