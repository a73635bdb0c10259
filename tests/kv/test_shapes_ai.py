"""`check --shapes` on agent runs and API keys an app wrote its own way: names and statuses
proposed for a mapping file, and nothing of an API key's values counted or shown."""

from __future__ import annotations

import json

from gql.kv import Store
from gql.kv.shapes import scan_shapes

CLEAR = "sk-live-CLEARTEXT-4f9a2b7c1d8e3f60a5b4"


async def test_app_run_names_and_statuses_are_proposed(store: Store) -> None:
    await store.set_many(
        {
            "ai_run:r1": {"id": "r1", "userId": "u", "model": "gpt", "tokensIn": 3,
                          "latencyMs": 5, "status": "succeeded"},
            "ai_run:r2": {"id": "r2", "userId": "u", "status": "failed"},
            "ai_run:r3": {"id": "r3", "userId": "u", "status": "queued"},
        }
    )  # fmt: skip
    shapes = await scan_shapes(store)
    runs = shapes.entities["ai_run"]
    assert runs.fields["status"].values == {"succeeded": 1, "failed": 1, "queued": 1}
    proposal = shapes.proposal()
    names = {app: entry.means for app, entry in proposal.names["ai_run"].items()}
    assert names == {"model": "agentName", "tokensIn": "inputTokens", "latencyMs": "durationMs"}
    values = {v: (e.means, e.write) for v, e in proposal.values["ai_run"]["status"].items()}
    assert values == {"succeeded": ("success", True), "failed": ("error", True),
                      "queued": ("running", False)}  # fmt: skip
    assert 'succeeded = { means = "success", write = true }' in proposal.toml(shapes.mapping)


async def test_no_api_key_value_is_counted_or_shown(store: Store) -> None:
    await store.set_many(
        {"apikey:u1": {"userId": "u1", "provider": "openai", "key": CLEAR, "hint": CLEAR}}
    )
    shapes = await scan_shapes(store)
    assert CLEAR not in json.dumps(shapes.to_json())
