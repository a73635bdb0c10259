"""Persisted queries: Apollo's automatic persisted queries (APQ) and an allow-list mode.

APQ lets a client send a document's SHA-256 instead of its text once the server has seen it
(smaller requests, cacheable GETs). The allow-list mode turns the same hashes into a safelist:
only documents registered at build time (`kvgraph register-queries`, or Apollo's
`generate-persisted-query-manifest`) run, so a stolen token cannot run arbitrary queries.
The registry is Apollo's persisted-query manifest, so both tools' files load here.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from gql.schema.errors import (
    BAD_REQUEST,
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_IN_LIST,
    PERSISTED_QUERY_NOT_SUPPORTED,
)

Mode = Literal["off", "apq", "allowlist"]
MANIFEST_FORMAT = "apollo-persisted-query-manifest"
APQ_VERSION = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def document_hash(document: str) -> str:
    """The SHA-256 of a document's UTF-8 text, lowercase hex (Apollo's `sha256Hash`)."""
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedQueryError(Exception):
    """A persisted-query request kvgraph refuses: message, code and HTTP status."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def _not_found() -> PersistedQueryError:
    # Apollo clients retry with the full document on exactly this message/code, and only
    # when the response is a 200 (as Apollo Server answers).
    return PersistedQueryError("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND, 200)


def _not_in_list() -> PersistedQueryError:
    return PersistedQueryError(
        "This server runs only registered operations; this document is not registered.",
        PERSISTED_QUERY_NOT_IN_LIST,
        403,
    )


@dataclass(frozen=True)
class Operation:
    """One registered operation: Apollo's manifest entry."""

    id: str
    name: str
    type: str
    body: str

    def entry(self) -> dict[str, str]:
        """The manifest JSON object of this operation."""
        return {"id": self.id, "name": self.name, "type": self.type, "body": self.body}


def manifest(operations: list[Operation]) -> bytes:
    """The manifest file's bytes for `operations` (sorted by name, stable diffs)."""
    ordered = sorted(operations, key=lambda op: (op.name, op.id))
    document = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "operations": [op.entry() for op in ordered],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def load_manifest(path: str | Path) -> dict[str, str]:
    """Read a manifest: hash -> document. Raises ValueError saying what is wrong."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f'{path}: expected {{"format": "{MANIFEST_FORMAT}", ...}}')
    if data.get("version") != 1 or not isinstance(data.get("operations"), list):
        raise ValueError(f'{path}: expected version 1 and an "operations" list')
    registry: dict[str, str] = {}
    for n, entry in enumerate(data["operations"]):
        body = entry.get("body") if isinstance(entry, dict) else None
        if not isinstance(body, str) or entry.get("id") != document_hash(body):
            raise ValueError(f"{path}: operation {n}: id must be the SHA-256 of its body")
        registry[entry["id"]] = body
    return registry


class DocumentCache:
    """Documents by hash, least recently used first out, bounded by total characters."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars, self.chars = max_chars, 0
        self._docs: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._docs)

    def get(self, key: str) -> str | None:
        """The document, marked as recently used; None if unknown."""
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
        return doc

    def put(self, key: str, doc: str) -> None:
        """Remember a document, evicting the least recently used ones beyond the bound."""
        if key in self._docs or len(doc) > self.max_chars:
            self.get(key)
            return
        self._docs[key] = doc
        self.chars += len(doc)
        while self.chars > self.max_chars:
            _, old = self._docs.popitem(last=False)
            self.chars -= len(old)


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The `persistedQuery.sha256Hash` of a request's extensions, checked; None if absent."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != APQ_VERSION:
        raise PersistedQueryError(
            "Unsupported persisted query version: send persistedQuery {version: 1, sha256Hash}",
            BAD_REQUEST,
            400,
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be 64 lowercase hex digits", BAD_REQUEST, 400
        )
    return digest


class PersistedQueries:
    """Turns a request's (query, extensions) into the document to run, or refuses it."""

    def __init__(self, mode: Mode, registry: dict[str, str], cache_chars: int) -> None:
        self.mode, self.registry = mode, registry
        self.cache = DocumentCache(cache_chars)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The document to run (None: the request has none); raises PersistedQueryError."""
        digest = _requested_hash(extensions)
        if digest is None:
            if self.mode != "allowlist" or query is None:
                return query
            digest = document_hash(query)  # plain text must be a registered document too
        elif self.mode == "off":
            raise PersistedQueryError(
                "PersistedQueryNotSupported", PERSISTED_QUERY_NOT_SUPPORTED, 200
            )
        if query is not None:
            return self._with_text(digest, query)
        known = self.registry.get(digest) or (
            self.cache.get(digest) if self.mode == "apq" else None
        )
        if known is None:
            raise _not_in_list() if self.mode == "allowlist" else _not_found()
        return known

    def _with_text(self, digest: str, query: str) -> str:
        """A request with both hash and text: check they agree, then remember the text."""
        if document_hash(query) != digest:
            raise PersistedQueryError(
                "provided sha256Hash does not match the query", BAD_REQUEST, 400
            )
        if self.mode == "allowlist":
            if digest not in self.registry:
                raise _not_in_list()
        else:
            self.cache.put(digest, query)
        return query
