"""`kvgraph fetch-graphiql [--dest DIR]`: refresh GraphiQL's pinned files from the npm registry.

Without `--dest` it rewrites the copies packaged with kvgraph (`gql/web/static/graphiql/`, a
maintainer's step after the pins in `gql.web.graphiql` change; files of older pins are
removed); with `--dest` it fills another folder (served with `KVGRAPH_GRAPHIQL_ASSETS`). Every
file, licences included, is checked against its pinned sha384 before anything is written.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gql.web import graphiql
from gql.web.graphiql import (
    DEFAULT_URL_PREFIX,
    MANIFEST,
    NPM_TIMEOUT,
    PACKAGED_DIR,
    sri_sha384,
)


class FetchError(Exception):
    """A user-facing reason why the assets could not be fetched."""


@dataclass(frozen=True)
class Pinned:
    """One file to write: where it comes from (npm spec, path in its tarball), where it goes
    (`name` under the folder) and its pinned hash."""

    source: str
    path: str
    name: str
    integrity: str


def pinned_files() -> list[Pinned]:
    """Every file the folder holds: the page's assets, then the packages' licences."""
    assets = [Pinned(a.spec, a.path, a.name, a.integrity) for a in graphiql.ASSETS]
    licences = [Pinned(x.source, x.path, x.name, x.integrity) for x in graphiql.LICENCES]
    return assets + licences


def by_source(files: list[Pinned]) -> dict[str, list[Pinned]]:
    """The files grouped by the npm spec whose tarball holds them, in first-seen order."""
    groups: dict[str, list[Pinned]] = {}
    for file in files:
        groups.setdefault(file.source, []).append(file)
    return groups


def read_pinned(dest: Path, file: Pinned) -> str | None:
    """None if `dest` holds the file with its pinned hash, else what is wrong."""
    try:
        data = (dest / file.name).read_bytes()
    except FileNotFoundError:
        return f"{file.name}: missing"
    except OSError as exc:
        return f"{file.name}: unreadable ({exc})"
    if sri_sha384(data) != file.integrity:
        return f"{file.name}: integrity mismatch"
    return None


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


def _extract(workdir: Path, spec: str, files: list[Pinned]) -> dict[Pinned, bytes]:
    """Read the wanted files out of the npm tarball in `workdir` (in memory, nothing else is
    unpacked)."""
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FetchError(f"`npm pack {spec}` left {len(tarballs)} .tgz files, expected one")
    tarball = tarballs[0]
    wanted: dict[str, list[Pinned]] = {}
    for file in files:
        wanted.setdefault(file.path, []).append(file)
    found: dict[Pinned, bytes] = {}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar:
                # npm tarballs hold one top folder (normally `package/`)
                inner = PurePosixPath(member.name).parts[1:]
                targets = wanted.get("/".join(inner))
                if not targets or not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    data = handle.read()
                    found.update(dict.fromkeys(targets, data))
    except (OSError, tarfile.TarError) as exc:
        raise FetchError(f"{tarball.name}: not a readable npm tarball ({exc})") from exc
    missing = list(dict.fromkeys(file.path for file in files if file not in found))
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


def _store(dest: Path, found: dict[Pinned, bytes]) -> None:
    """Verify every file against its pinned hash, then write them all; refuse on mismatch."""
    bad = [
        f"{file.name}: expected {file.integrity}, got {sri_sha384(data)}"
        for file, data in found.items()
        if sri_sha384(data) != file.integrity
    ]
    if bad:
        for file in found:
            (dest / file.name).unlink(missing_ok=True)
        raise FetchError(
            "integrity check failed, nothing written for this package:\n  " + "\n  ".join(bad)
        )
    for file, data in found.items():
        _write_atomic(dest / file.name, data)


def _present(dest: Path, files: list[Pinned]) -> bool:
    return all(read_pinned(dest, file) is None for file in files)


def manifest_text() -> str:
    """The folder's manifest.json: every pinned file with its version, hash and origin."""
    manifest = {
        "about": "GraphiQL's files for kvgraph, written by `kvgraph fetch-graphiql` from the npm "
        f"registry and served under {DEFAULT_URL_PREFIX}/ (the page's SRI hashes pin them)",
        "assets": [
            {
                "package": asset.package,
                "version": asset.version,
                "path": asset.path,
                "file": asset.name,
                "integrity": asset.integrity,
                "cdn_url": asset.cdn_url,
            }
            for asset in graphiql.ASSETS
        ],
        "licences": [
            {
                "package": licence.spec,
                "license": licence.spdx,
                "file": licence.name,
                "from": f"{licence.source}/{licence.path}",
                "integrity": licence.integrity,
                **({"note": licence.note} if licence.note else {}),
            }
            for licence in graphiql.LICENCES
        ],
    }
    return json.dumps(manifest, indent=2) + "\n"


def _write_manifest(dest: Path) -> None:
    text = manifest_text()
    path = dest / MANIFEST
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        _write_atomic(path, text.encode("utf-8"))


def _prune(dest: Path, files: list[Pinned]) -> list[str]:
    """Remove files no pin names (an older version's) from the packaged folder; their names."""
    keep = {file.name for file in files} | {MANIFEST}
    removed = []
    for path in sorted(dest.rglob("*"), reverse=True):
        name = path.relative_to(dest).as_posix()
        if path.is_file() and name not in keep:
            path.unlink()
            removed.append(name)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return sorted(removed)


async def _fetch(dest: Path, npm: str | None, *, prune: bool) -> None:
    files = pinned_files()
    for spec, group in by_source(files).items():
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
    await asyncio.to_thread(_write_manifest, dest)
    if prune:
        for name in await asyncio.to_thread(_prune, dest, files):
            print(f"  removed {name} (no longer pinned)")


async def fetch_command(dest: str | None = None) -> int:
    """`kvgraph fetch-graphiql [--dest DIR]`: fetch the pinned GraphiQL files with `npm pack`,
    verify them against their hashes and write them into DIR (default: the packaged copies).
    Idempotent; 0 on success."""
    folder = Path(dest) if dest else PACKAGED_DIR
    print(f"fetching GraphiQL files into {folder}/ (npm pack, sha384-verified)")
    try:
        await _fetch(folder, shutil.which("npm"), prune=not dest)
    except FetchError as exc:
        _err(str(exc))
        return 1
    except OSError as exc:
        _err(f"cannot write into {folder}: {exc}")
        return 1
    graphiql.clear_caches()
    served = "served by default" if not dest else f"serve them with KVGRAPH_GRAPHIQL_ASSETS={dest}"
    print(f"done: {len(pinned_files())} files in {folder}/; {served}")
    return 0
