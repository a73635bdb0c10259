"""Offline GraphiQL: the packaged files, the page rewrite, the asset routes and `fetch_command`
(with a fake npm; tests/web/test_graphiql_package.py builds the wheel and sdist)."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from strawberry.http.ides import get_graphql_ide_html
from yarl import URL

from gql.commands import fetch_graphiql
from gql.commands.fetch_graphiql import fetch_command, manifest_text, pinned_files
from gql.web import graphiql
from gql.web.app import create_app
from gql.web.graphiql import (
    ASSETS,
    LICENCES,
    PACKAGED_DIR,
    Asset,
    Licence,
    add_routes,
    check_assets,
    ide_html,
    sri_sha384,
)
from gql.web.settings import Settings

CDN_PAGE = get_graphql_ide_html("graphiql")


def fake_content(asset: Asset) -> bytes:
    return f"/* fake {asset.name} */\n".encode()


def fake_licence(licence: Licence) -> bytes:
    return f"fake licence from {licence.source}\n".encode()


@pytest.fixture
def fake_assets(monkeypatch: pytest.MonkeyPatch) -> tuple[Asset, ...]:
    """The real pins (same CDN URLs), but with hashes of small fake files (licences too)."""
    assets = tuple(dataclasses.replace(a, integrity=sri_sha384(fake_content(a))) for a in ASSETS)
    monkeypatch.setattr(graphiql, "ASSETS", assets)
    licences = tuple(
        dataclasses.replace(x, integrity=sri_sha384(fake_licence(x))) for x in LICENCES
    )
    monkeypatch.setattr(graphiql, "LICENCES", licences)
    return assets


def write_assets(folder: Path, assets: tuple[Asset, ...]) -> Path:
    for asset in assets:
        path = folder / asset.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fake_content(asset))
    return folder


# --- the pins and the page ------------------------------------------------------------------


def test_pins_match_strawberrys_page() -> None:
    tags = re.findall(r"<(?:script|link)\b[^>]*>", CDN_PAGE)
    loaded = {}
    for tag in tags:
        url = re.search(r'(?:src|href)="(https://[^"]+)"', tag)
        if url:
            integrity = re.search(r'integrity="([^"]+)"', tag)
            loaded[url.group(1)] = integrity.group(1) if integrity else None
    assert loaded == {a.cdn_url: a.integrity for a in ASSETS}, (
        "strawberry's GraphiQL page changed: update gql.web.graphiql.ASSETS"
    )
    for asset in ASSETS:
        assert asset.cdn_url.endswith(f"/{asset.package}@{asset.version}/{asset.path}")


def test_sri_sha384() -> None:
    # the SRI spec's example digest of "alert('Hello, world.');"
    assert sri_sha384(b"alert('Hello, world.');") == (
        "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
    )


def test_no_assets_dir_is_the_cdn_page(tmp_path: Path) -> None:
    assert ide_html(None) == CDN_PAGE
    assert ide_html(tmp_path / "missing") == CDN_PAGE
    assert ide_html(tmp_path) == CDN_PAGE  # exists but empty
    assert "no such folder" in check_assets(tmp_path / "missing")[0]
    assert len(check_assets(tmp_path)) == len(ASSETS)


def test_verified_assets_rewrite_every_cdn_url(
    tmp_path: Path, fake_assets: tuple[Asset, ...]
) -> None:
    folder = write_assets(tmp_path, fake_assets)
    assert check_assets(folder) == []
    html = ide_html(folder)
    assert "https://" not in html
    for real, fake in zip(ASSETS, fake_assets, strict=True):
        local = f"/graphiql-assets/{fake.name}"
        assert f'"{local}"' in html
        assert real.integrity in html  # integrity attributes are kept
    assert html.replace("/graphiql-assets/", "https://unpkg.com/") == CDN_PAGE
    assert ide_html(folder) is html  # computed once per folder
    assert f'"/ide/{fake_assets[0].name}"' in ide_html(folder, url_prefix="/ide/")


def test_one_altered_file_means_the_cdn_page(
    tmp_path: Path, fake_assets: tuple[Asset, ...]
) -> None:
    folder = write_assets(tmp_path, fake_assets)
    target = folder / fake_assets[-1].name
    target.write_bytes(target.read_bytes() + b"// tampered\n")
    problems = check_assets(folder)
    assert len(problems) == 1
    assert fake_assets[-1].name in problems[0]
    assert "integrity mismatch" in problems[0]
    assert ide_html(folder) == CDN_PAGE


# --- the routes -----------------------------------------------------------------------------


def make_app(folder: Path | None, **kwargs: Any) -> web.Application:
    app = web.Application()
    add_routes(app, folder, **kwargs)
    return app


async def test_routes_serve_the_files(
    tmp_path: Path, fake_assets: tuple[Asset, ...], aiohttp_client: Any
) -> None:
    client = await aiohttp_client(make_app(write_assets(tmp_path, fake_assets)))
    for asset in fake_assets:
        resp = await client.get(f"/graphiql-assets/{asset.name}")
        assert resp.status == 200, asset.name
        assert await resp.read() == fake_content(asset)
        kind = "text/css" if asset.path.endswith(".css") else "text/javascript"
        assert resp.headers["Content-Type"] == f"{kind}; charset=utf-8"
        assert "max-age=31536000" in resp.headers["Cache-Control"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        again = await client.get(
            f"/graphiql-assets/{asset.name}", headers={"If-None-Match": resp.headers["ETag"]}
        )
        assert again.status == 304
    head = await client.head(f"/graphiql-assets/{fake_assets[0].name}")
    assert head.status == 200


async def test_routes_serve_nothing_else(
    tmp_path: Path, fake_assets: tuple[Asset, ...], aiohttp_client: Any
) -> None:
    folder = write_assets(tmp_path / "assets", fake_assets)
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "extra.js").write_text("extra")
    client = await aiohttp_client(make_app(folder))
    first = fake_assets[0].name
    for path in (
        "/graphiql-assets/manifest.json",
        "/graphiql-assets/extra.js",
        "/graphiql-assets/",
        "/graphiql-assets/react@18.2.0",
        "/graphiql-assets/../secret.txt",
        "/graphiql-assets/%2e%2e/secret.txt",
        "/graphiql-assets/..%2fsecret.txt",
        f"/graphiql-assets/{first}/../../../secret.txt",
        f"/graphiql-assets/{first}%2f..%2f..%2f..%2fsecret.txt",
        "/graphiql-assets//etc/passwd",
    ):
        resp = await client.get(URL(path, encoded=True))
        body = await resp.text()
        assert resp.status == 404, (path, resp.status)
        assert "secret" not in body
    resp = await client.post(f"/graphiql-assets/{first}")
    assert resp.status == 405


async def test_routes_custom_prefix(
    tmp_path: Path, fake_assets: tuple[Asset, ...], aiohttp_client: Any
) -> None:
    client = await aiohttp_client(make_app(write_assets(tmp_path, fake_assets), url_prefix="/x/"))
    assert (await client.get(f"/x/{fake_assets[0].name}")).status == 200
    assert (await client.get(f"/graphiql-assets/{fake_assets[0].name}")).status == 404


async def test_no_routes_without_verified_assets(
    tmp_path: Path, fake_assets: tuple[Asset, ...], aiohttp_client: Any
) -> None:
    folder = write_assets(tmp_path, fake_assets)
    (folder / fake_assets[0].name).write_bytes(b"tampered")
    client = await aiohttp_client(make_app(folder))
    assert (await client.get(f"/graphiql-assets/{fake_assets[1].name}")).status == 404
    app = make_app(None)
    assert len(app.router.routes()) == 0


# --- fetch_command with a fake npm ----------------------------------------------------------

FAKE_NPM = """#!{python}
import io, json, os, sys, tarfile
log, packages = os.environ["FAKE_NPM_LOG"], os.environ["FAKE_NPM_PACKAGES"]
with open(log, "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
spec = sys.argv[2]
files = json.load(open(packages)).get(spec)
if sys.argv[1] != "pack" or files is None:
    sys.stderr.write(f"npm error 404 Not Found - {{spec}}\\n")
    sys.exit(1)
name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-") + "-" + spec.rsplit("@", 1)[1]
with tarfile.open(name + ".tgz", "w:gz") as tar:
    for path, text in files.items():
        data = text.encode()
        info = tarfile.TarInfo("package/" + path)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
print(name + ".tgz")
"""


class FakeNpm:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        npm = bin_dir / "npm"
        npm.write_text(FAKE_NPM.format(python=sys.executable))
        npm.chmod(0o755)
        self.log = tmp_path / "npm.log"
        self.log.write_text("")
        self.packages = tmp_path / "packages.json"
        monkeypatch.setenv("PATH", str(bin_dir))
        monkeypatch.setenv("FAKE_NPM_LOG", str(self.log))
        monkeypatch.setenv("FAKE_NPM_PACKAGES", str(self.packages))

    def serve(self, files: dict[str, dict[str, str]]) -> None:
        """What `npm pack <spec>` returns: spec -> {path inside the package: text}."""
        self.packages.write_text(json.dumps(files))

    def calls(self) -> list[str]:
        calls = self.log.read_text().splitlines()
        self.log.write_text("")
        return calls


@pytest.fixture
def npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_assets: tuple[Asset, ...]) -> FakeNpm:
    fake = FakeNpm(tmp_path, monkeypatch)
    packages: dict[str, dict[str, str]] = {}
    for asset in fake_assets:
        packages.setdefault(asset.spec, {"README.md": "not wanted"})[asset.path] = fake_content(
            asset
        ).decode()
    for licence in LICENCES:
        packages[licence.source][licence.path] = fake_licence(licence).decode()
    fake.serve(packages)
    return fake


async def test_fetch_writes_verified_files_and_is_idempotent(
    tmp_path: Path,
    npm: FakeNpm,
    fake_assets: tuple[Asset, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    dest = tmp_path / "out" / "assets"
    assert await fetch_command(str(dest)) == 0
    specs = list(dict.fromkeys(a.spec for a in fake_assets))
    assert npm.calls() == [f"pack {spec} --loglevel=error" for spec in specs]
    out = capsys.readouterr().out
    assert all(f"{spec}: fetched, verified" in out for spec in specs)
    assert len(out.splitlines()) == len(specs) + 2  # header, one per package, summary
    assert check_assets(dest) == []
    files = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    licences = {f"{a.spec}/LICENSE" for a in fake_assets}
    # no README, no tarball
    assert files == {a.name for a in fake_assets} | licences | {"manifest.json"}
    manifest = json.loads((dest / "manifest.json").read_text())
    assert [m["integrity"] for m in manifest["assets"]] == [a.integrity for a in fake_assets]
    assert {m["file"] for m in manifest["licences"]} == licences
    explorer = dest / "@graphiql/plugin-explorer@1.0.2/LICENSE"
    assert explorer.read_bytes() == b"fake licence from graphiql@3.8.3\n"
    assert ide_html(dest) != CDN_PAGE

    # again: nothing to fetch
    assert await fetch_command(str(dest)) == 0
    assert npm.calls() == []
    assert "present, verified" in capsys.readouterr().out

    # one file lost or damaged: only its package is fetched again
    (dest / fake_assets[0].name).unlink()
    (dest / fake_assets[-1].name).write_text("damaged")
    assert await fetch_command(str(dest)) == 0
    assert npm.calls() == [
        f"pack {fake_assets[0].spec} --loglevel=error",
        f"pack {fake_assets[-1].spec} --loglevel=error",
    ]
    assert check_assets(dest) == []


async def test_fetch_refuses_a_mismatching_file(
    tmp_path: Path,
    npm: FakeNpm,
    fake_assets: tuple[Asset, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    dest = tmp_path / "assets"
    bad = fake_assets[-1]
    (dest / bad.name).parent.mkdir(parents=True)
    (dest / bad.name).write_text("an old bad copy")
    packages = json.loads(npm.packages.read_text())
    packages[bad.spec][bad.path] = "evil()"
    npm.serve(packages)
    assert await fetch_command(str(dest)) == 1
    err = capsys.readouterr().err
    assert "integrity check failed" in err
    assert bad.name in err
    assert bad.integrity in err
    assert not (dest / bad.name).exists()
    assert not (dest / "manifest.json").exists()
    assert ide_html(dest) == CDN_PAGE


async def test_fetch_without_npm(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_assets: tuple[Asset, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert await fetch_command(str(tmp_path / "assets")) != 0
    assert "`npm` was not found" in capsys.readouterr().err


async def test_fetch_npm_fails(
    tmp_path: Path, npm: FakeNpm, capsys: pytest.CaptureFixture[str]
) -> None:
    npm.serve({})
    assert await fetch_command(str(tmp_path / "assets")) != 0
    err = capsys.readouterr().err
    assert "failed (exit 1)" in err
    assert "npm error 404" in err


async def test_fetch_tarball_without_the_file(
    tmp_path: Path,
    npm: FakeNpm,
    fake_assets: tuple[Asset, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    npm.serve({spec: {"README.md": "x"} for spec in {a.spec for a in fake_assets}})
    assert await fetch_command(str(tmp_path / "assets")) != 0
    assert f"lacks {fake_assets[0].path}" in capsys.readouterr().err


async def test_fetch_into_the_package_removes_older_pins(
    tmp_path: Path,
    npm: FakeNpm,
    monkeypatch: pytest.MonkeyPatch,
    fake_assets: tuple[Asset, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --dest the packaged copies are refreshed, and an older version's files go."""
    packaged = tmp_path / "static" / "graphiql"
    old = packaged / "react@18.1.0" / "umd" / "react.production.min.js"
    old.parent.mkdir(parents=True)
    old.write_text("old")
    monkeypatch.setattr(fetch_graphiql, "PACKAGED_DIR", packaged)
    assert await fetch_command() == 0
    assert "removed react@18.1.0/umd/react.production.min.js" in capsys.readouterr().out
    assert not (packaged / "react@18.1.0").exists()
    files = {p.relative_to(packaged).as_posix() for p in packaged.rglob("*") if p.is_file()}
    assert files == {f.name for f in pinned_files()} | {"manifest.json"}
    # a folder given with --dest keeps whatever else it holds
    other = tmp_path / "mine"
    (other / "notes.txt").parent.mkdir()
    (other / "notes.txt").write_text("mine")
    assert await fetch_command(str(other)) == 0
    assert (other / "notes.txt").read_text() == "mine"


# --- the copies packaged with kvgraph -------------------------------------------------------


def test_packaged_files_are_the_pinned_ones() -> None:
    """gql/web/static/graphiql holds every pinned file, verified, and nothing else."""
    assert check_assets(PACKAGED_DIR) == []
    assert {a.spec for a in ASSETS} == {x.spec for x in LICENCES}  # every package's licence
    for licence in LICENCES:
        data = (PACKAGED_DIR / licence.name).read_bytes()
        assert sri_sha384(data) == licence.integrity, licence.name
        assert b"MIT License" in data
    files = {p.relative_to(PACKAGED_DIR).as_posix() for p in PACKAGED_DIR.rglob("*") if p.is_file()}
    assert files == {f.name for f in pinned_files()} | {"manifest.json"}
    manifest = (PACKAGED_DIR / "manifest.json").read_text(encoding="utf-8")
    assert manifest == manifest_text(), "run `python -m gql fetch-graphiql` to refresh it"
    assert {a["package"] for a in json.loads(manifest)["assets"]} == {
        "react",
        "react-dom",
        "js-cookie",
        "graphiql",
        "@graphiql/plugin-explorer",
    }


def page_urls(html: str) -> list[str]:
    """Every script `src` and stylesheet `href` of a page."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    urls = [re.search(r'(?:src|href)="([^"]+)"', tag) for tag in tags]
    return [url.group(1) for url in urls if url and not url.group(1).startswith("data:")]


async def get_page(client: Any) -> str:
    resp = await client.get("/graphql", headers={"Accept": "text/html"})
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    return str(await resp.text())


async def test_default_app_serves_the_packaged_files(aiohttp_client: Any, tmp_path: Path) -> None:
    """Out of the box: the page loads only local files, served with types and long caching."""
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", insecure_no_auth=True)
    client = await aiohttp_client(create_app(settings))
    urls = page_urls(await get_page(client))
    assert sorted(urls) == sorted(f"/graphiql-assets/{a.name}" for a in ASSETS)
    for asset in ASSETS:
        resp = await client.get(f"/graphiql-assets/{asset.name}")
        assert resp.status == 200, asset.name
        body = await resp.read()
        assert sri_sha384(body) == asset.integrity
        kind = "text/css" if asset.path.endswith(".css") else "text/javascript"
        assert resp.headers["Content-Type"] == f"{kind}; charset=utf-8"
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert resp.headers["ETag"] == f'"{asset.integrity.removeprefix("sha384-")}"'
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("manifest.json", LICENCES[0].name):  # only the page's files are served
        assert (await client.get(f"/graphiql-assets/{name}")).status == 404


async def test_cdn_only_on_request(aiohttp_client: Any, tmp_path: Path) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db", insecure_no_auth=True, graphiql_cdn=True
    )
    client = await aiohttp_client(create_app(settings))
    assert await get_page(client) == CDN_PAGE
    assert all(url.startswith("https://unpkg.com/") for url in page_urls(CDN_PAGE))
    assert (await client.get(f"/graphiql-assets/{ASSETS[0].name}")).status == 404


async def test_no_graphiql_no_asset_routes(aiohttp_client: Any, tmp_path: Path) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db", insecure_no_auth=True, graphiql=False
    )
    client = await aiohttp_client(create_app(settings))
    assert (await client.get(f"/graphiql-assets/{ASSETS[0].name}")).status == 404


async def test_another_folder_on_request(
    aiohttp_client: Any, tmp_path: Path, fake_assets: tuple[Asset, ...]
) -> None:
    folder = write_assets(tmp_path / "assets", fake_assets)
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db", insecure_no_auth=True, graphiql_assets=str(folder)
    )
    client = await aiohttp_client(create_app(settings))
    assert "https://" not in "".join(page_urls(await get_page(client)))
    resp = await client.get(f"/graphiql-assets/{fake_assets[0].name}")
    assert await resp.read() == fake_content(fake_assets[0])
