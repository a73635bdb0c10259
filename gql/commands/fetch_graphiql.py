"""`kvgraph fetch-graphiql --dest DIR`: fetch the pinned GraphiQL files for offline use."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from gql.web import graphiql
from gql.web.graphiql import (
    DEFAULT_URL_PREFIX,
    MANIFEST,
    NPM_TIMEOUT,
    Asset,
    packages_of,
    read_verified,
    sri_sha384,
)


class FetchError(Exception):
    """A user-facing reason why the assets could not be fetched."""


def _err(message: str) -> None:
    print(f"fetch-graphiql: {message}", file=sys.stderr)


async def _npm_pack(npm: str, spec: str, workdir: Path) -> None:
    """Download `spec`'s tarball into `workdir` with `npm pack`."""
    try:
        proc = await asyncio.create_subprocess_exec(
            npm,
            "pack",
            spec,
            "--loglevel=error",
            cwd=workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise FetchError(f"cannot run {npm}: {exc}") from exc
    try:
        _stdout, stderr = await asyncio.wait_for(proc.communicate(), NPM_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise FetchError(f"`npm pack {spec}` timed out after {NPM_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n  ".join(stderr.decode("utf-8", "replace").strip().splitlines()[-8:])
        raise FetchError(f"`npm pack {spec}` failed (exit {proc.returncode}):\n  {tail}")


def _extract(workdir: Path, spec: str, assets: list[Asset]) -> dict[Asset, bytes]:
    """Read the wanted files out of the npm tarball in `workdir` (in memory, nothing else is
    unpacked)."""
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FetchError(f"`npm pack {spec}` left {len(tarballs)} .tgz files, expected one")
    tarball = tarballs[0]
    wanted = {asset.path: asset for asset in assets}
    found: dict[Asset, bytes] = {}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar:
                # npm tarballs hold one top folder (normally `package/`)
                inner = PurePosixPath(member.name).parts[1:]
                asset = wanted.get("/".join(inner))
                if asset is None or not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    found[asset] = handle.read()
    except (OSError, tarfile.TarError) as exc:
        raise FetchError(f"{tarball.name}: not a readable npm tarball ({exc})") from exc
    missing = [asset.path for asset in assets if asset not in found]
    if missing:
        raise FetchError(f"{tarball.name} lacks {', '.join(missing)}")
    return found


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with io.FileIO(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _store(dest: Path, found: dict[Asset, bytes]) -> None:
    """Verify every file against its pinned SRI hash, then write them all; refuse on mismatch."""
    bad = [
        f"{asset.name}: expected {asset.integrity}, got {sri_sha384(data)}"
        for asset, data in found.items()
        if sri_sha384(data) != asset.integrity
    ]
    if bad:
        for asset in found:
            (dest / asset.name).unlink(missing_ok=True)
        raise FetchError(
            "integrity check failed, nothing written for this package:\n  " + "\n  ".join(bad)
        )
    for asset, data in found.items():
        _write_atomic(dest / asset.name, data)


def _present(dest: Path, assets: list[Asset]) -> bool:
    return all(read_verified(dest, asset)[1] is None for asset in assets)


def _write_manifest(dest: Path, assets: tuple[Asset, ...]) -> None:
    manifest = {
        "about": "GraphiQL files for kvgraph (`kvgraph fetch-graphiql`); served under "
        f"{DEFAULT_URL_PREFIX}/ when KVGRAPH_GRAPHIQL_ASSETS points here",
        "assets": [
            {
                "package": asset.package,
                "version": asset.version,
                "path": asset.path,
                "file": asset.name,
                "integrity": asset.integrity,
                "cdn_url": asset.cdn_url,
            }
            for asset in assets
        ],
    }
    text = json.dumps(manifest, indent=2) + "\n"
    path = dest / MANIFEST
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        _write_atomic(path, text.encode("utf-8"))


async def _fetch(dest: Path, npm: str | None) -> None:
    assets = graphiql.ASSETS
    for spec, group in packages_of(assets).items():
        if await asyncio.to_thread(_present, dest, group):
            print(f"  {spec}: present, verified")
            continue
        if npm is None:
            raise FetchError("`npm` was not found on PATH: install Node.js/npm and run this again")
        with tempfile.TemporaryDirectory(prefix="kvgraph-npm-") as workdir:
            await _npm_pack(npm, spec, Path(workdir))
            found = await asyncio.to_thread(_extract, Path(workdir), spec, group)
            await asyncio.to_thread(_store, dest, found)
        print(f"  {spec}: fetched, verified ({len(group)} file{'s' * (len(group) > 1)})")
    await asyncio.to_thread(_write_manifest, dest, assets)


async def fetch_command(dest: str) -> int:
    """`kvgraph fetch-graphiql --dest DIR`: fetch the pinned GraphiQL files with `npm pack`,
    verify them against their SRI hashes and write them into DIR. Idempotent; 0 on success."""
    folder = Path(dest)
    print(f"fetching GraphiQL files into {folder}/ (npm pack, sha384-verified)")
    try:
        await _fetch(folder, shutil.which("npm"))
    except FetchError as exc:
        _err(str(exc))
        return 1
    except OSError as exc:
        _err(f"cannot write into {folder}: {exc}")
        return 1
    graphiql.clear_caches()
    print(
        f"done: {len(graphiql.ASSETS)} files in {folder}/; "
        f"serve them with KVGRAPH_GRAPHIQL_ASSETS={dest}"
    )
    return 0
