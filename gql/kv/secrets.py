"""Secrets encrypted at rest: a user's API key is stored only as AES-256-GCM ciphertext.

The key comes from configuration (`KVGRAPH_API_KEY_SECRET`, at least 32 bytes), stretched
with HKDF-SHA256 so that any long secret makes a full-strength key and the same secret used
elsewhere yields an unrelated one. Each value is sealed with a fresh 96-bit nonce and bound to
the KV key it is stored under (the GCM associated data): a ciphertext copied into another
user's record does not open there. A sealed value reads `v1.<key id>.<base64url(nonce +
ciphertext + tag)>`; the key id (8 hex digits of a hash of the derived key) lets `check` say
"sealed with another key" rather than "damaged". Nothing here ever prints, logs or raises
the clear text or the key; its `repr` hides both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
NONCE_BYTES = 12
_INFO = b"kvgraph api keys v1"


class Undecryptable(Exception):
    """A stored value kvgraph cannot open; the message says why, never what it holds."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """Seals and opens short secrets with the key derived from one configured secret."""

    __slots__ = ("_aead", "key_id")

    def __init__(self, secret: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret.encode("utf-8")
        )
        self._aead = AESGCM(derived)
        self.key_id = hashlib.sha256(b"key id:" + derived).hexdigest()[:8]

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self.key_id})"

    def seal(self, clear: str, bound_to: str) -> str:
        """The sealed form of `clear`, opened only under the same key `bound_to`."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, clear.encode("utf-8"), bound_to.encode("utf-8"))
        return f"{VERSION}.{self.key_id}.{_b64(nonce + sealed)}"

    def open(self, sealed: object, bound_to: str) -> str:
        """The clear text of a sealed value stored at `bound_to`; Undecryptable says why not."""
        if not isinstance(sealed, str):
            raise Undecryptable("its ciphertext is not a string")
        version, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        if version != VERSION or not key_id or not body:
            raise Undecryptable("its ciphertext is not in kvgraph's format (v1.<key id>.<data>)")
        if key_id != self.key_id:
            raise Undecryptable(f"it was encrypted with another key (key id {key_id})")
        try:
            raw = _unb64(body)
            clear = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode())
        except (binascii.Error, ValueError, InvalidTag):
            raise Undecryptable(
                "its ciphertext does not decrypt (damaged, or copied from another record)"
            ) from None
        return clear.decode("utf-8")

    def opens(self, sealed: object, bound_to: str) -> str | None:
        """Why a sealed value does not open (None: it does)."""
        try:
            self.open(sealed, bound_to)
        except Undecryptable as exc:
            return str(exc)
        return None
