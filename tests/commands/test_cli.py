"""The command line: settings, refusing to start insecurely, tokens."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import jwt
import pytest
from pydantic import ValidationError

from gql.commands.cli import build_parser, main, settings_from
from gql.web.server import refuse_reason
from gql.web.settings import DEV_JWT_SECRET, Settings

REAL = "real-secret-0123456789-0123456789-abcdef"


def sub_of(token: str, secret: str) -> str:
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="authenticated")
    return str(claims["sub"])


def test_serve_refuses_without_secret(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
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
    settings = Settings(jwt_secret=REAL)
    assert REAL not in repr(settings) and REAL not in str(settings)


def test_token_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KVGRAPH_JWT_SECRET", "cli-secret-0123456789-0123456789-abc")
    assert main(["token", "--user", "u-42"]) == 0
    token = capsys.readouterr().out.strip()
    assert sub_of(token, "cli-secret-0123456789-0123456789-abc") == "u-42"
    monkeypatch.delenv("KVGRAPH_JWT_SECRET")
    assert main(["token", "--user", "u-42"]) == 2


def test_token_command_signs_a_service_role_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "cli-secret-0123456789-0123456789-abc"
    monkeypatch.setenv("KVGRAPH_JWT_SECRET", secret)
    assert main(["token", "--user", "runner", "--role", "service_role"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="authenticated")
    assert (claims["sub"], claims["role"]) == ("runner", "service_role")


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
    lines = [line for line in captured.err.splitlines() if "WARNING" not in line]
    assert len(lines) == 1, captured.err  # the --insecure-no-auth warning, then one line
    assert lines[0].startswith("kvgraph: refusing to start: ")
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


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No KVGRAPH_* auth variables from the machine running the tests, and `serve` fails the
    test instead of serving (or seeding) if it gets past its checks."""
    for name in ("JWT_SECRET", "JWKS_URL", "DEV", "INSECURE_NO_AUTH", "INTROSPECTION"):
        monkeypatch.delenv(f"KVGRAPH_{name}", raising=False)
    monkeypatch.chdir(tmp_path)

    def started(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the server started (or seeded demo data)")

    for target in ("gql.web.server._worker", "gql.web.server._supervise"):
        monkeypatch.setattr(target, started)
    monkeypatch.setattr("gql.commands.serve.prepare_dev_store", started)
    return monkeypatch


def test_dev_flags_in_the_environment_change_nothing(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("KVGRAPH_DEV", "1")
    clean_env.setenv("KVGRAPH_INSECURE_NO_AUTH", "true")
    settings = settings_from(build_parser().parse_args(["serve"]))
    assert not settings.dev and not settings.insecure_no_auth and settings.secret() is None
    assert main(["serve", "--port", "0"]) == 2
    assert "refusing to start: no keys" in capsys.readouterr().err
    assert main(["token", "--user", "u1"]) == 2  # no dev secret to sign with either
    clean_env.setenv("KVGRAPH_JWT_SECRET", REAL)
    settings = settings_from(build_parser().parse_args(["serve"]))
    assert settings.secret() == REAL and not settings.introspection_on()
    assert refuse_reason(settings) is None


@pytest.mark.parametrize("flag", ["--dev", "--insecure-no-auth"])
@pytest.mark.parametrize(
    "env",
    [
        {"KVGRAPH_JWT_SECRET": REAL},
        {"KVGRAPH_JWKS_URL": "https://abc.supabase.co/auth/v1/.well-known/jwks.json"},
    ],
)
def test_dev_flags_are_refused_with_real_keys(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    env: dict[str, str],
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["serve", flag, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{flag} is refused when KVGRAPH_JWT_SECRET or KVGRAPH_JWKS_URL is set" in err
    assert REAL not in err


def test_dev_and_insecure_exclude_each_other(clean_env: pytest.MonkeyPatch) -> None:
    settings = settings_from(build_parser().parse_args(["serve", "--dev", "--insecure-no-auth"]))
    assert "exclude each other" in (refuse_reason(settings) or "")


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, "é" * 15, DEV_JWT_SECRET])
def test_weak_secrets_are_refused_in_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    clean_env.setenv("KVGRAPH_JWT_SECRET", secret)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kvgraph: invalid configuration: ")
    assert "KVGRAPH_JWT_SECRET: " in err
    assert ("32 bytes" in err) != (secret == DEV_JWT_SECRET)
    if secret:
        assert secret not in err


@pytest.mark.parametrize("secret", ["x" * 32, "é" * 16])
def test_secrets_of_32_bytes_are_accepted(secret: str) -> None:
    assert Settings(jwt_secret=secret).secret() == secret


def test_token_dev_signs_with_the_dev_secret(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--user", "u-7", "--dev"]) == 0
    out = capsys.readouterr()
    assert sub_of(out.out.strip(), DEV_JWT_SECRET) == "u-7" and "dev secret" in out.err
    clean_env.setenv("KVGRAPH_JWT_SECRET", REAL)
    assert main(["token", "--user", "u-7", "--dev"]) == 0
    token = capsys.readouterr().out.strip()
    assert sub_of(token, DEV_JWT_SECRET) == "u-7"  # never signed with the real secret
    with pytest.raises(jwt.InvalidSignatureError):
        sub_of(token, REAL)


def test_auth_settings(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KVGRAPH_JWT_ALGORITHMS", "HS256, ES256")
    clean_env.setenv("KVGRAPH_CORS_ORIGINS", "http://a.test,http://b.test")
    clean_env.setenv("KVGRAPH_INTROSPECTION", "true")
    settings = Settings()
    assert settings.jwt_algorithms == ["HS256", "ES256"] and settings.introspection_on()
    assert settings.cors_origins == ["http://a.test", "http://b.test"]
    clean_env.setenv("KVGRAPH_JWT_ALGORITHMS", '["RS256"]')
    assert Settings().jwt_algorithms == ["RS256"]
    assert "Authorization" in Settings().cors_headers
    assert Settings(jwks_url="http://127.0.0.1:9999/jwks.json").jwks_url


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"jwt_algorithms": "none"}, "got none"),
        ({"jwt_algorithms": "HS256,hs256"}, "got hs256"),
        ({"jwt_algorithms": ""}, "got nothing"),
        ({"jwks_url": "http://abc.supabase.co/jwks.json"}, "https://"),
        ({"jwks_url": "ftp://127.0.0.1/jwks.json"}, "https://"),
        ({"jwks_url": "https://x.test/j", "jwt_algorithms": "HS256"}, "no ES/RS algorithm"),
        ({"jwt_secret": REAL, "jwt_algorithms": "ES256"}, "no HS algorithm"),
    ],
)
def test_bad_auth_settings_are_refused(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**values)  # type: ignore[arg-type]
