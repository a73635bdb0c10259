"""GraphiQL's files travel with kvgraph: the sdist built from the tree and the wheel pip builds
from that sdist both hold every pinned file (hash-verified), the licences and the manifest."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from gql.commands.fetch_graphiql import manifest_text, pinned_files
from gql.web.graphiql import MANIFEST, sri_sha384

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "gql/web/static/graphiql/"


def run(*args: str, cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel): the sdist built from a copy of the tree, the wheel pip builds from it."""
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("dist")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("gql", "resolvers"):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    for file in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / file, src / file)
    run(
        sys.executable,
        "-c",
        "from setuptools import setup; setup()",
        "-q",
        "sdist",
        "-d",
        str(out),
        cwd=src,
    )
    (sdist,) = out.glob("kvgraph-*.tar.gz")
    run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(sdist), cwd=out
    )
    (wheel,) = out.glob("kvgraph-*.whl")
    return sdist, wheel


def check_files(files: dict[str, bytes]) -> None:
    """Every pinned file with its hash, and the manifest, under gql/web/static/graphiql/."""
    for pinned in pinned_files():
        data = files.get(PREFIX + pinned.name)
        assert data is not None, f"{pinned.name} is not packaged"
        assert sri_sha384(data) == pinned.integrity, pinned.name
    assert files[PREFIX + MANIFEST].decode("utf-8") == manifest_text()


def test_sdist_holds_the_graphiql_files(built: tuple[Path, Path]) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as tar:
        files = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None and PREFIX in member.name:
                files[member.name.split("/", 1)[1]] = handle.read()
    check_files(files)


def test_wheel_holds_the_graphiql_files(built: tuple[Path, Path]) -> None:
    _, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        files = {name: archive.read(name) for name in archive.namelist() if name.startswith(PREFIX)}
    check_files(files)
