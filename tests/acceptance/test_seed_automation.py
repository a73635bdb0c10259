"""Acceptance, automation and key tables of the seed (automation_jobs, automation_logs,
automation_rules, web_sources, api_keys): written as the travel planner's services write
them, read and changed over HTTP, the table checked afterwards."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.acceptance.conftest import App
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

USER = "user-456"
SERVICE = {"user": "job-runner", "role": "service_role"}
ERRORS = "userErrors { field message code }"

JOBS = {
    # job-service.ts ("already implemented"): a queue of jobs under one global index.
    "job:j1": {
        "id": "j1",
        "type": "refresh-events",
        "status": "completed",
        "payload": {"city": "Lisbon"},
        "result": {"added": 12},
        "createdAt": "2024-12-24T02:00:00Z",
        "updatedAt": "2024-12-24T02:00:09Z",
        "attempts": 1,
    },
    "job:j2": {"id": "j2", "type": "send-digest", "status": "pending", "createdAt": 1735034400000},
    "job:j3": {"id": "j3", "type": "scrape", "status": "retrying"},
    "jobs:index": ["j1", "j2", "j3"],
    "log:j1": {
        "jobId": "j1",
        "entries": [
            {"timestamp": "2024-12-24T02:00:01Z", "level": "info", "message": "started"},
            {"time": 1735005609000, "level": "warn", "msg": "2 events without dates"},
            {"at": "2024-12-24T02:00:09Z", "level": "info", "message": "done", "data": {"n": 12}},
        ],
    },
}


async def test_jobs_and_their_logs(app: App) -> None:
    await app.write(JOBS)
    query = """{ jobs { totalCount nodes { id type status statusRaw payload result createdAt
        log { jobId entries { totalCount nodes { at level levelRaw message data } } } } } }"""
    jobs = (await app.ok(query, **SERVICE))["jobs"]
    assert jobs["totalCount"] == 3
    j1, j2, j3 = jobs["nodes"]
    assert (j1["type"], j1["status"], j1["payload"], j1["result"]) == (
        "refresh-events",
        "COMPLETED",
        {"city": "Lisbon"},
        {"added": 12},
    )
    assert j1["log"]["entries"] == {
        "totalCount": 3,
        "nodes": [
            {
                "at": "2024-12-24T02:00:01+00:00",
                "level": "INFO",
                "levelRaw": "info",
                "message": "started",
                "data": None,
            },
            {
                "at": "2024-12-24T02:00:09+00:00",
                "level": "OTHER",
                "levelRaw": "warn",
                "message": "2 events without dates",
                "data": None,
            },
            {
                "at": "2024-12-24T02:00:09+00:00",
                "level": "INFO",
                "levelRaw": "info",
                "message": "done",
                "data": {"n": 12},
            },
        ],
    }
    assert j2["createdAt"] == "2024-12-24T10:00:00+00:00" and j2["log"] is None
    assert (j3["status"], j3["statusRaw"]) == ("OTHER", "retrying")
    pending = await app.ok("{ jobs(status: PENDING) { nodes { id } } }", **SERVICE)
    assert pending == {"jobs": {"nodes": [{"id": "j2"}]}}
    user = await app.post('{ job(id: "j1") { id } }', user=USER)
    assert user.get("errors") or user["data"] == {"job": None}


async def test_job_mutations_keep_the_queue(app: App) -> None:
    await app.write(JOBS)
    create = f"""mutation {{ createJob(input: {{type: "refresh-events", payload: {{city: "Porto"}}}})
        {{ job {{ id status }} {ERRORS} }} }}"""
    job = (await app.mutate(create, **SERVICE))["job"]
    assert await app.raw("jobs:index") == ["j1", "j2", "j3", job["id"]]
    stored = await app.raw(f"job:{job['id']}")
    assert stored["type"] == "refresh-events" and stored["payload"] == {"city": "Porto"}
    assert stored["createdAt"].endswith("Z")
    update = f"""mutation {{ updateJob(input: {{id: "j2", status: RUNNING}}) {{ {ERRORS} }} }}"""
    await app.mutate(update, **SERVICE)
    j2 = await app.raw("job:j2")
    assert j2["status"] == "running" and isinstance(j2["updatedAt"], int)
    append = f"""mutation {{ appendJobLog(input: {{jobId: "j1", entries: [{{level: ERROR,
        message: "late failure"}}]}}) {{ {ERRORS} }} }}"""
    await app.mutate(append, **SERVICE)
    log = await app.raw("log:j1")
    assert log["entries"][:3] == JOBS["log:j1"]["entries"]  # type: ignore[index]
    assert log["entries"][3]["level"] == "error" and log["entries"][3]["message"] == "late failure"
    # A log the app keeps as the bare list of its entries reads, and stays a list.
    await app.write({"log:j3": [{"timestamp": "2024-12-24T03:00:00Z", "message": "queued"}]})
    query = '{ job(id: "j3") { log { jobId entries { nodes { at message } } } } }'
    log = (await app.ok(query, **SERVICE))["job"]["log"]
    assert log == {
        "jobId": "j3",
        "entries": {"nodes": [{"at": "2024-12-24T03:00:00+00:00", "message": "queued"}]},
    }
    await app.mutate(append.replace('"j1"', '"j3"'), **SERVICE)
    bare = await app.raw("log:j3")
    assert isinstance(bare, list) and bare[0]["message"] == "queued"
    assert bare[1]["message"] == "late failure"
    delete = f'mutation {{ deleteJob(input: {{id: "j3"}}) {{ {ERRORS} }} }}'
    await app.mutate(delete, **SERVICE)
    assert await app.raw("jobs:index") == ["j1", "j2", job["id"]]
    refused = await app.post(create, user=USER)
    assert refused.get("errors") or refused["data"]["createJob"]["userErrors"]
    assert len(await app.raw("jobs:index")) == 3


async def test_automation_rules(app: App) -> None:
    await app.write(
        {
            "automation:a1": {
                "id": "a1",
                "userId": USER,
                "name": "Price drop alert",
                "trigger": {"type": "price_drop", "threshold": 0.1},
                "action": {"type": "notify", "channel": "email"},
                "enabled": True,
                "createdAt": "2024-12-24T08:00:00Z",
                "lastRunAt": "2024-12-24T09:00:00Z",
            },
            "automation:a2": {
                "id": "a2",
                "userId": USER,
                "title": "Weekly digest",
                "trigger": {"cron": "0 8 * * 1"},
                "action": {"type": "digest"},
                "active": False,
            },
            f"automations:index:{USER}": ["a1", "a2"],
        }
    )
    query = """{ viewer { automationRules { totalCount nodes { id name trigger action enabled
        createdAt } } } }"""
    rules = (await app.ok(query, user=USER))["viewer"]["automationRules"]
    assert rules == {
        "totalCount": 2,
        "nodes": [
            {
                "id": "a1",
                "name": "Price drop alert",
                "trigger": {"type": "price_drop", "threshold": 0.1},
                "action": {"type": "notify", "channel": "email"},
                "enabled": True,
                "createdAt": "2024-12-24T08:00:00+00:00",
            },
            {
                "id": "a2",
                "name": "Weekly digest",
                "trigger": {"cron": "0 8 * * 1"},
                "action": {"type": "digest"},
                "enabled": False,
                "createdAt": None,
            },
        ],
    }
    enable = f'mutation {{ enableAutomationRule(input: {{id: "a2"}}) {{ {ERRORS} }} }}'
    await app.mutate(enable, user=USER)
    a2 = await app.raw("automation:a2")
    assert a2["active"] is True and "enabled" not in a2 and a2["title"] == "Weekly digest"
    create = f"""mutation {{ createAutomationRule(input: {{name: "Rain", trigger: {{type: "weather"}},
        action: {{type: "notify"}}}}) {{ rule {{ id }} {ERRORS} }} }}"""
    new = (await app.mutate(create, user=USER))["rule"]["id"]
    assert await app.raw(f"automations:index:{USER}") == ["a1", "a2", new]
    stored = await app.raw(f"automation:{new}")
    assert stored["userId"] == USER and stored["trigger"] == {"type": "weather"}
    stranger = await app.ok(query, user="user-999")
    assert stranger["viewer"]["automationRules"]["totalCount"] == 0


async def test_web_sources(app: App) -> None:
    url = "https://www.visitlisboa.com/en/events"
    digest = hashlib.sha256(url.encode()).hexdigest()
    await app.write(
        {
            f"websource:{digest}": {
                "url": url,
                "title": "Events in Lisbon",
                "text": "Fado, markets and more.",
                "cachedAt": "2024-12-24T06:00:00Z",
                "ttl": 86400,
            },
            # Another hash (an app's MD5), read by its hash.
            "websource:5d41402abc4b2a76b9719d911017c592": {
                "url": "https://example.com/hello",
                "content": "hello",
                "fetchedAt": 1735020000000,
            },
        }
    )
    query = "query($u: String, $h: String) { webSource(url: $u, hash: $h) { hash url title content fetchedAt } }"
    page = (await app.ok(query, {"u": url}, **SERVICE))["webSource"]
    assert page == {
        "hash": digest,
        "url": url,
        "title": "Events in Lisbon",
        "content": "Fado, markets and more.",
        "fetchedAt": "2024-12-24T06:00:00+00:00",
    }
    other = await app.ok(query, {"h": "5d41402abc4b2a76b9719d911017c592"}, **SERVICE)
    assert other["webSource"]["content"] == "hello"
    assert other["webSource"]["fetchedAt"] == "2024-12-24T06:00:00+00:00"
    user = await app.post(query, {"u": url}, user=USER)
    assert user.get("errors") or user["data"] == {"webSource": None}
    upsert = f"""mutation {{ upsertWebSource(input: {{url: "{url}", title: "Lisbon events"}})
        {{ {ERRORS} }} }}"""
    await app.mutate(upsert, **SERVICE)
    stored = await app.raw(f"websource:{digest}")
    assert stored["title"] == "Lisbon events" and stored["text"] == "Fado, markets and more."
    assert "content" not in stored and stored["ttl"] == 86400


async def test_api_keys_never_in_clear(app: App) -> None:
    secret = "sk-live-0123456789abcdefSECRET"
    set_key = f"""mutation($s: String!) {{ setApiKey(input: {{provider: "openai", secret: $s}})
        {{ {ERRORS} }} }}"""
    await app.mutate(set_key, {"s": secret}, user=USER)
    stored = await app.raw(f"apikey:{USER}")
    assert secret not in json.dumps(stored) and stored["userId"] == USER
    assert stored["provider"] == "openai" and stored["createdAt"].endswith("Z")
    query = "{ viewer { apiKey { provider masked hint createdAt } } }"
    key = (await app.ok(query, user=USER))["viewer"]["apiKey"]
    assert key["provider"] == "openai" and secret not in json.dumps(key)
    assert key["masked"].endswith(secret[-4:])
    # A key the app stored itself (encrypted its own way): shown masked, never its text.
    await app.write(
        {
            "apikey:user-777": {
                "userId": "user-777",
                "provider": "anthropic",
                "encryptedKey": "U2FsdGVkX1+abcdefghijklmnop",
                "createdAt": "2024-12-01T00:00:00Z",
            }
        }
    )
    body = await app.post(query, user="user-777")
    assert "U2FsdGVkX1" not in json.dumps(body)
    assert body["data"]["viewer"]["apiKey"]["provider"] == "anthropic"
    delete = f"mutation {{ deleteApiKey(input: {{}}) {{ {ERRORS} }} }}"
    await app.mutate(delete, user=USER)
    assert await app.raw(f"apikey:{USER}") is None
