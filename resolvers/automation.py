"""Automation: background jobs and their logs, which server-side code writes and reads (the
service role only), and the automation rules users keep for themselves.

Jobs are listed by the seed's global `jobs:index`; a job's log is one record, `log:{jobId}`,
whose `entries` are objects without ids, paged by position like the seed's other lists
(`Stored`: a cursor keeps its place as entries are appended). Automation rules have no index
in the seed: kvgraph keeps `automations:index:{userId}` (see docs/api.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import now
from resolvers import validate as v
from resolvers.access import may_write, record, records, viewer_only
from resolvers.common import (
    IdArgs,
    Outcome,
    Problem,
    author,
    has_status,
    page_of,
    pages_of_index,
    written,
)
from resolvers.context import SERVICE_ROLE, Context, usable
from resolvers.eager import gather_eagerly
from resolvers.loaders import Stored
from resolvers.paging import Page, PageArgs, paginate
from resolvers.users import UserRef

TYPE_MAX = 80  # a job's `type`
ENTRIES_MAX = 100  # log entries appended by one call
RULE_JSON_MAX = 10_000  # characters of a rule's `trigger` or `action` as JSON
JOB_JSON_MAX = 100_000  # characters of a job's `payload` or `result` as JSON


@dataclass(slots=True)
class JobArgs(PageArgs):
    """`jobs(...)`: paging plus an optional status filter."""

    status: str | None = None


# ---------------------------------------------------------------- jobs
async def jobs(ctx: Context, args: JobArgs) -> Page:
    """A page of `jobs:index`, optionally only the jobs in one status (`OTHER`: any status
    kvgraph does not know). Anyone but the service role gets an empty page, read from nothing."""
    if ctx.role != SERVICE_ROLE:
        return Page.empty()
    listing = await ctx.loaders.index(k.JOBS_INDEX.key())
    status = args.status
    keep = None if status is None else lambda j: has_status(j.status, status, m.JOB_STATUSES)
    return await page_of(ctx, e.JOB, listing, args, keep=keep)


async def job(ctx: Context, job_id: str) -> m.Job | None:
    """A job, for the service role."""
    return await record(ctx, e.JOB, job_id)


async def job_by_id(ctx: Context, args: IdArgs) -> m.Job | None:
    """`job(id:)`: a job, for the service role (null for anyone else)."""
    return await record(ctx, e.JOB, args.id)


async def job_logs(ctx: Context, found: Sequence[m.Job]) -> list[m.AutomationLog | None]:
    """Each job's log (`log:{jobId}`), if it has one."""
    return await records(ctx, e.LOG)([j.id for j in found])


async def log_of(ctx: Context, job_id: str) -> m.AutomationLog | None:
    """The log of a job (for `node(nodeId:)`), for the service role."""
    return await record(ctx, e.LOG, job_id)


async def log_entries(ctx: Context, logs: Sequence[m.AutomationLog], args: PageArgs) -> list[Page]:
    """A page of each log's entries, oldest first, by position; an entry that is not a valid
    entry is skipped and reported as `log:{jobId}.entries[n]`."""
    return list(await gather_eagerly(_entries(ctx, log, args) for log in logs))


async def _entries(ctx: Context, log: m.AutomationLog, args: PageArgs) -> Page:
    name = f"{k.LOG.key(str(log.job_id))}.entries"
    stored = Stored(log.entries or ())

    async def load(refs: Sequence[str]) -> list[Any]:
        found = (ctx.loaders.element(m.AutomationLogEntry, name, stored, int(ref)) for ref in refs)
        return [usable(ctx, one) for one in found]

    return await paginate(stored, args, load, kind="AutomationLogEntry")


def _json_size(data: dict[str, Any], names: Sequence[str], limit: int) -> list[Problem]:
    """Refuse JSON values longer than `limit` characters once encoded."""
    return [
        Problem(name, f"{name} must be at most {limit:,} characters as JSON")
        for name in names
        if data.get(name) is not None and len(orjson.dumps(data[name])) > limit
    ]


def _not_null(data: dict[str, Any], *names: str) -> list[Problem]:
    """Refuse an explicit null for fields that cannot be cleared."""
    return [
        Problem(name, f"{name} must not be null")
        for name in names
        if name in data and data[name] is None
    ]


def _job_problems(data: dict[str, Any], *, creating: bool) -> list[Problem]:
    problems = v.text_fields(data, {"type": (TYPE_MAX, True)}, partial=not creating)
    problems += _not_null(data, "status")
    return problems + _json_size(data, ("payload", "result"), JOB_JSON_MAX)


async def create_job(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Queue a job (status `pending` unless given); the service role only."""
    may_write(ctx, e.JOB)
    if problems := _job_problems(data, creating=True):
        return Outcome(None, problems)
    data.setdefault("status", "pending")
    return await written(ctx, ctx.repo.create(e.JOB, data))


async def update_job(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change a job's status, result, payload or type; the service role only."""
    may_write(ctx, e.JOB, "change")
    job_id = data.pop("id")
    if await record(ctx, e.JOB, job_id) is None:
        return Outcome.fail("job not found", "id", "NOT_FOUND")
    if problems := _job_problems(data, creating=False):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.update(e.JOB, [job_id], data))


async def delete_job(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a job with its log; the service role only."""
    may_write(ctx, e.JOB, "change")
    job_id = data["id"]
    if await record(ctx, e.JOB, job_id) is None:
        return Outcome.fail("job not found", "id", "NOT_FOUND")
    return await written(ctx, ctx.repo.delete(e.JOB, job_id))


def _entry(raw: dict[str, Any], n: int) -> dict[str, Any] | Problem:
    """One log entry to append (`at` now unless given, level `info` unless given)."""
    entry = {name: value for name, value in raw.items() if value is not None}
    where = f"entries[{n}]"
    problems = v.text_fields(entry, {"message": (v.CONTENT_MAX, True)})
    problems += _json_size(entry, ("data",), JOB_JSON_MAX)
    if problems:
        return Problem(f"{where}.{problems[0].field}", problems[0].message)
    at = entry.get("at")
    entry["at"] = now() if at is None else v.iso_datetime(at)
    entry.setdefault("level", "info")
    return entry


async def append_job_log(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Append entries to a job's log (created with the first ones); the service role only."""
    may_write(ctx, e.LOG)
    job_id, given = data["jobId"], data["entries"]
    if not 1 <= len(given) <= ENTRIES_MAX:
        return Outcome.fail(f"give 1 to {ENTRIES_MAX} entries", "entries")
    if await record(ctx, e.JOB, job_id) is None:
        return Outcome.fail("job not found", "jobId", "NOT_FOUND")
    entries = [_entry(raw, n) for n, raw in enumerate(given)]
    if problems := [p for p in entries if isinstance(p, Problem)]:
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.append(e.LOG, [job_id], "entries", entries))


# ---------------------------------------------------------------- automation rules
@viewer_only(empty=Page.empty)
async def user_automation_rules(
    ctx: Context, users: Sequence[UserRef], args: PageArgs
) -> list[Page]:
    """A page of each user's automation rules (`automations:index:{userId}`)."""
    return await pages_of_index(ctx, users, k.AUTOMATIONS_INDEX, lambda u: u.id, e.AUTOMATION, args)


async def automation_rule(ctx: Context, rule_id: str) -> m.AutomationRule | None:
    """An automation rule of the viewer's."""
    return await record(ctx, e.AUTOMATION, rule_id)


def _rule_problems(data: dict[str, Any], *, creating: bool) -> list[Problem]:
    problems = v.text_fields(data, {"name": (v.TITLE_MAX, True)}, partial=not creating)
    problems += _not_null(data, "trigger", "action", "enabled")
    for name in ("trigger", "action"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            problems.append(Problem(name, f"{name} must be a JSON object"))
    return problems + _json_size(data, ("trigger", "action"), RULE_JSON_MAX)


async def create_automation_rule(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Create an automation rule for the viewer (enabled unless `enabled: false`)."""
    user = author(ctx, e.AUTOMATION)
    if problems := _rule_problems(data, creating=True):
        return Outcome(None, problems)
    data.setdefault("enabled", True)
    return await written(ctx, ctx.repo.create(e.AUTOMATION, {**data, "userId": user}))


async def _own_rule(ctx: Context, rule_id: str) -> Outcome | None:
    """None when the viewer owns the rule, else the NOT_FOUND outcome."""
    author(ctx, e.AUTOMATION, "change")
    if await record(ctx, e.AUTOMATION, rule_id) is None:
        return Outcome.fail("automation rule not found", "id", "NOT_FOUND")
    return None


async def update_automation_rule(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change a rule of the viewer's; fields the input leaves out stay as they are."""
    rule_id = data.pop("id")
    if (refused := await _own_rule(ctx, rule_id)) is not None:
        return refused
    if problems := _rule_problems(data, creating=False):
        return Outcome(None, problems)
    return await _changed(ctx, rule_id, data)


async def _changed(ctx: Context, rule_id: str, patch: dict[str, Any]) -> Outcome:
    return await written(ctx, ctx.repo.update(e.AUTOMATION, [rule_id], patch))


async def enable_automation_rule(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Turn a rule of the viewer's on."""
    if (refused := await _own_rule(ctx, data["id"])) is not None:
        return refused
    return await _changed(ctx, data["id"], {"enabled": True})


async def disable_automation_rule(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Turn a rule of the viewer's off."""
    if (refused := await _own_rule(ctx, data["id"])) is not None:
        return refused
    return await _changed(ctx, data["id"], {"enabled": False})


async def delete_automation_rule(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a rule of the viewer's (and its entry in their index)."""
    rule_id = data["id"]
    if (refused := await _own_rule(ctx, rule_id)) is not None:
        return refused
    return await written(ctx, ctx.repo.delete(e.AUTOMATION, rule_id))
