"""The command line: settings, refusing to start insecurely, tokens."""

from __future__ import annotations

import pytest

from gql.commands.cli import build_parser, main, settings_from
from gql.web.auth import decode_token
from gql.web.server import refuse_reason
from gql.web.settings import DEV_JWT_SECRET, Settings


def test_serve_refuses_without_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KVGRAPH_JWT_SECRET", raising=False)
    assert main(["serve", "--port", "0"]) == 2
    assert "refusing to start" in capsys.readouterr().err
    assert refuse_reason(Settings(insecure_no_auth=True)) is None


def test_dev_uses_the_dev_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KVGRAPH_JWT_SECRET", raising=False)
    settings = settings_from(build_parser().parse_args(["serve", "--dev"]))
    assert settings.secret() == DEV_JWT_SECRET and settings.dev


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KVGRAPH_PORT", "9000")
    monkeypatch.setenv("KVGRAPH_KV_TABLE", "kv_store_fd8c4bf7")
    settings = settings_from(build_parser().parse_args(["serve", "--port", "9100"]))
    assert (settings.port, settings.kv_table) == (9100, "kv_store_fd8c4bf7")


def test_invalid_settings_are_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KVGRAPH_KV_TABLE", "kv; drop")
    assert main(["check"]) == 2
    assert "invalid configuration" in capsys.readouterr().err


def test_secret_is_never_printed() -> None:
    settings = Settings(jwt_secret="super-secret-value-123")
    assert "super-secret-value-123" not in repr(settings) and "super-secret-value-123" not in str(
        settings
    )


def test_token_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KVGRAPH_JWT_SECRET", "cli-secret-0123456789-0123456789-abc")
    assert main(["token", "--user", "u-42"]) == 0
    token = capsys.readouterr().out.strip()
    assert decode_token(token, "cli-secret-0123456789-0123456789-abc").user_id == "u-42"
    monkeypatch.delenv("KVGRAPH_JWT_SECRET")
    assert main(["token", "--user", "u-42"]) == 2


def test_workers_need_a_fixed_port() -> None:
    assert "fixed port" in (refuse_reason(Settings(workers=2, port=0, insecure_no_auth=True)) or "")
    assert refuse_reason(Settings(workers=2, port=8123, insecure_no_auth=True)) is None
    settings = settings_from(build_parser().parse_args(["serve", "--workers", "3"]))
    assert settings.workers == 3


@pytest.mark.parametrize(
    "url",
    ["sqlite://relative.db", "postgresql://u@127.0.0.1:abc/db", "postgresql://u@127.0.0.1:9/db"],
)
def test_serve_refuses_a_store_it_cannot_use_in_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--insecure-no-auth", "--port", "0", "--store-url", url]) == 1
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith("kvgraph: refusing to start: ")
    assert "serving" not in captured.out


def test_invalid_configuration_never_echoes_a_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "do-not-print-this-secret-0123456789abcdef"
    monkeypatch.setenv("KVGRAPH_JWT_SECRET", secret)
    monkeypatch.setenv("KVGRAPH_RATE_LIMIT", "5")  # refused by a check over all settings
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "rate_limit (5) is below max_nodes" in err
    assert secret[:8] not in err
