"""GraphiQL without internet: the IDE's files ship inside the package, pinned and verified.

Strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from unpkg.com. The
same files, pinned to the versions and SRI hashes of that page (`ASSETS`), are committed under
`gql/web/static/graphiql/` with their licences (`LICENCES`) and a `manifest.json`, and built
into the wheel and sdist as package data. By default the server serves them under
`/graphiql-assets/` and rewrites the page to load them, so the IDE works with no network.
`KVGRAPH_GRAPHIQL_CDN=true` serves the unchanged CDN page instead; `KVGRAPH_GRAPHIQL_ASSETS=DIR`
serves another folder. A folder whose files do not all match their hashes is not used (the CDN
page is served, with a warning in the log).

`kvgraph fetch-graphiql` (gql/commands/fetch_graphiql.py) refreshes the packaged copies from
the npm registry (`npm pack`), verifying every file against its pin.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from aiohttp import web
from strawberry.http.ides import get_graphql_ide_html

log = logging.getLogger(__name__)

DEFAULT_URL_PREFIX = "/graphiql-assets"
MANIFEST = "manifest.json"
PACKAGED_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
LICENCE_FILE = "LICENSE"
NPM_TIMEOUT = 180.0
CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass(frozen=True)
class Asset:
    """One file strawberry's GraphiQL page loads from the CDN, and where it lives on npm."""

    package: str
    version: str
    path: str  # inside the npm package (the tarball's `package/` folder)
    integrity: str  # the page's SRI attribute: "sha384-<base64>"
    cdn_url: str  # exactly as written in the page

    @property
    def spec(self) -> str:
        """`name@version`, as given to `npm pack`."""
        return f"{self.package}@{self.version}"

    @property
    def name(self) -> str:
        """The file's relative path under the assets folder and under the URL prefix."""
        return f"{self.spec}/{self.path}"


def _unpkg(package: str, version: str, path: str, integrity: str) -> Asset:
    return Asset(package, version, path, integrity, f"https://unpkg.com/{package}@{version}/{path}")


# Pinned to what strawberry-graphql 0.341's static/graphiql.html loads (same versions and SRI).
ASSETS: tuple[Asset, ...] = (
    _unpkg(
        "react",
        "18.2.0",
        "umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    _unpkg(
        "react-dom",
        "18.2.0",
        "umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    _unpkg(
        "js-cookie",
        "3.0.5",
        "dist/js.cookie.min.js",
        "sha384-/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN",
    ),
    _unpkg(
        "graphiql",
        "3.8.3",
        "graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    _unpkg(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/style.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    _unpkg(
        "graphiql",
        "3.8.3",
        "graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    _unpkg(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/index.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)


@dataclass(frozen=True)
class Licence:
    """The licence of one pinned package, copied beside its files as `{spec}/LICENSE`."""

    spec: str  # the package it covers: `name@version`
    spdx: str  # its package.json `license` field
    source: str  # the npm spec whose tarball holds the text
    path: str  # inside that tarball
    integrity: str  # "sha384-<base64>" of the text
    note: str = ""

    @property
    def name(self) -> str:
        """The file's relative path under the assets folder."""
        return f"{self.spec}/{LICENCE_FILE}"


_REACT_LICENCE = "sha384-dIN5gxuW3odCH42AKpxql36fRQlrVsjCi4EJgGC2Ty8Ihkcq9cdrChEZpKhSAfks"
_GRAPHIQL_LICENCE = "sha384-9JPX1agGTIUB7wtQt2kO3PUO7clmCJp+9e50VMjw1yd8briI77AZnMDBz5VcerBH"

LICENCES: tuple[Licence, ...] = (
    Licence("react@18.2.0", "MIT", "react@18.2.0", "LICENSE", _REACT_LICENCE),
    Licence("react-dom@18.2.0", "MIT", "react-dom@18.2.0", "LICENSE", _REACT_LICENCE),
    Licence(
        "js-cookie@3.0.5",
        "MIT",
        "js-cookie@3.0.5",
        "LICENSE",
        "sha384-uG7osW4jezyTfrCMBZKlxO0Abr9+R81rXQtZnhqRRgdbRmYKGbspsV6b9MHIbXYE",
    ),
    Licence("graphiql@3.8.3", "MIT", "graphiql@3.8.3", "LICENSE", _GRAPHIQL_LICENCE),
    Licence(
        "@graphiql/plugin-explorer@1.0.2",
        "MIT",
        "graphiql@3.8.3",
        "LICENSE",
        _GRAPHIQL_LICENCE,
        note="the package's tarball has no licence file (package.json: MIT); this is the "
        "licence of its repository, github.com/graphql/graphiql, as shipped in graphiql@3.8.3",
    ),
)


def sri_sha384(data: bytes) -> str:
    """The Subresource Integrity string of `data`: "sha384-<base64 digest>"."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


# --- checking and serving -------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    files: dict[str, bytes]  # asset name -> verified content; empty unless all verified
    problems: tuple[str, ...]


def read_verified(assets_dir: Path, asset: Asset) -> tuple[bytes | None, str | None]:
    """(content, None) if the file is there and matches its SRI hash, else (None, problem)."""
    path = assets_dir / asset.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"{asset.name}: missing"
    except OSError as exc:
        return None, f"{asset.name}: unreadable ({exc})"
    actual = sri_sha384(data)
    if actual != asset.integrity:
        return None, f"{asset.name}: integrity mismatch (expected {asset.integrity}, got {actual})"
    return data, None


@lru_cache(maxsize=16)
def _check(assets_dir: Path, assets: tuple[Asset, ...]) -> _Checked:
    files: dict[str, bytes] = {}
    problems: list[str] = []
    if not assets_dir.is_dir():
        problems.append("no such folder")
    for asset in assets if not problems else ():
        data, problem = read_verified(assets_dir, asset)
        if problem is not None:
            problems.append(problem)
        elif data is not None:
            files[asset.name] = data
    if problems:
        log.warning(
            "GraphiQL assets in %s are not usable, using the CDN page (refresh them with "
            "`kvgraph fetch-graphiql --dest %s`): %s",
            assets_dir,
            assets_dir,
            "; ".join(problems),
        )
        return _Checked({}, tuple(problems))
    return _Checked(files, ())


def assets_dir(*, cdn: bool, folder: str) -> Path | None:
    """Where GraphiQL's files are served from: None for the CDN page, else `folder` if given,
    else the copies packaged with kvgraph."""
    if cdn:
        return None
    return Path(folder) if folder else PACKAGED_DIR


def check_assets(assets_dir: Path) -> list[str]:
    """What is wrong with `assets_dir` (missing or altered files); [] when every file verifies.

    The result is cached per folder: files are hashed once, not per request.
    """
    return list(_check(assets_dir.resolve(), ASSETS).problems)


@lru_cache(maxsize=16)
def _ide_html(assets_dir: Path | None, url_prefix: str, assets: tuple[Asset, ...]) -> str:
    page = get_graphql_ide_html("graphiql")
    if assets_dir is None or _check(assets_dir, assets).problems:
        return page
    absent = [asset.cdn_url for asset in assets if asset.cdn_url not in page]
    if absent:
        log.warning(
            "strawberry's GraphiQL page no longer loads %s: the pinned assets are out of date,"
            " using the CDN page",
            ", ".join(absent),
        )
        return page
    for asset in assets:
        page = page.replace(asset.cdn_url, f"{url_prefix}/{asset.name}")
    return page


def ide_html(assets_dir: Path | None, *, url_prefix: str = DEFAULT_URL_PREFIX) -> str:
    """Strawberry's GraphiQL page, loading its files from `url_prefix` when `assets_dir` holds
    every pinned file (verified against its SRI hash); otherwise the unchanged CDN page.

    The SRI `integrity` attributes are kept (the local files match them). Cached per folder.
    """
    resolved = assets_dir.resolve() if assets_dir is not None else None
    return _ide_html(resolved, url_prefix.rstrip("/"), ASSETS)


def add_routes(
    app: web.Application, assets_dir: Path | None, *, url_prefix: str = DEFAULT_URL_PREFIX
) -> None:
    """Serve the verified GraphiQL files under `url_prefix` (GET/HEAD, long-lived cache).

    Only the pinned file names are served, from memory, so no other path can be reached. Nothing
    is added when `assets_dir` is None or does not verify (the page then uses the CDN).
    """
    if assets_dir is None:
        return
    checked = _check(assets_dir.resolve(), ASSETS)
    if checked.problems:
        return
    files = checked.files
    etags = {asset.name: asset.integrity.removeprefix("sha384-") for asset in ASSETS}

    async def serve_asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        data = files.get(name)
        if data is None:
            raise web.HTTPNotFound()
        etag = etags[name]
        headers = {"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
        if request.if_none_match and any(tag.value == etag for tag in request.if_none_match):
            response = web.Response(status=304, headers=headers)
            response.etag = etag
            return response
        content_type = CONTENT_TYPES[PurePosixPath(name).suffix]
        response = web.Response(
            body=data, content_type=content_type, charset="utf-8", headers=headers
        )
        response.etag = etag
        return response

    app.router.add_get(url_prefix.rstrip("/") + "/{name:.+}", serve_asset)


def clear_caches() -> None:
    """Forget verified files and pages (after new files were fetched)."""
    _check.cache_clear()
    _ide_html.cache_clear()
