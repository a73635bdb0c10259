"""A served gateway says at start whether it stores API keys, refuses them without an
encryption key, and prints neither a key nor the encryption secret."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from gql.web.auth import mint_token
from tests.support import SECRET
from tests.web.test_serve import free_port, read_until, start, wait_until_up

CLEAR = "sk-live-CLEARTEXT-4f9a2b7c1d8e3f60a5b4"
ENCRYPTION = "the-servers-api-key-encryption-secret-0123"
SET = (
    "mutation($input: SetApiKeyInput!) { setApiKey(input: $input) "
    "{ apiKey { hint } userErrors { field code message } } }"
)


def set_key(url: str) -> dict[str, object]:
    import urllib.request

    body = json.dumps(
        {"query": SET, "variables": {"input": {"provider": "openai", "secret": CLEAR}}}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {mint_token(SECRET, 'user-1')}",
    }
    request = urllib.request.Request(f"{url}/graphql", body, headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def serve(tmp_path: Path, marker: str, **env: str) -> tuple[str, dict[str, object]]:
    """Start a production server, set a key through it, stop it: (everything it printed,
    the answer)."""
    port = free_port()
    proc = start(tmp_path, "--port", str(port), KVGRAPH_JWT_SECRET=SECRET, **env)
    try:
        lines = read_until(proc, marker)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        answer = set_key(url)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()  # type: ignore[union-attr]
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()  # type: ignore[union-attr]
    return "\n".join(lines) + "\n" + rest, answer


def test_without_an_encryption_key_the_server_says_so_and_refuses(tmp_path: Path) -> None:
    printed, answer = serve(tmp_path, "note: API keys are off: KVGRAPH_API_KEY_SECRET")
    out = answer["data"]["setApiKey"]  # type: ignore[index]
    assert out["apiKey"] is None and out["userErrors"][0]["code"] == "NOT_CONFIGURED"
    assert CLEAR not in json.dumps(answer) + printed


def test_with_an_encryption_key_keys_are_stored_and_nothing_is_printed(tmp_path: Path) -> None:
    printed, answer = serve(tmp_path, "kvgraph serving", KVGRAPH_API_KEY_SECRET=ENCRYPTION)
    assert "API keys" not in printed, printed
    assert answer["data"]["setApiKey"] == {"apiKey": {"hint": "a5b4"}, "userErrors": []}  # type: ignore[index]
    printed += json.dumps(answer)
    assert CLEAR not in printed and ENCRYPTION not in printed
    assert CLEAR.encode() not in (tmp_path / "kvgraph.db").read_bytes()
