"""SQLite relay of the change feed: a datagram to every other process serving the same file.

SQLite has no NOTIFY. The processes serving one file (the workers of `serve --workers N`, or
several `serve` on one host) each bind a Unix datagram socket in one folder named after the
file's real path (under the temporary folder, private to the user); a process that commits a
write sends the changed keys to every other socket there. A socket nobody holds any more (a
process that died) is removed by the first sender that finds it refused.

Every user of the machine can know the folder's name (it cannot be random, as `mkdtemp`'s or
ssh-agent's are: each process must find it), so someone else may have made it first. It is
used only as what kvgraph makes, a real folder of this user's that no one else may enter
(mode 0700, as ssh insists for `~/.ssh`); any other (a symbolic link, another user's folder,
one open to others) is refused with a `StoreError` saying what is wrong and how to mend it,
rather than relaying changes through a place a stranger could read or write.

A datagram carries at most `DATAGRAM_BYTES`: more keys go in several, and more than
`MAX_DATAGRAMS` worth as one resync marker (`changes.messages`, split as Postgres'
notifications are). A peer whose queue is full at that moment is sent a resync marker as soon
as it has room again, so it re-reads instead of missing a change.
Writes by other programs on the file (`kvgraph import`, an app) are not relayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import socket
import stat
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

from gql.kv.base import StoreError
from gql.kv.changes import ChangeFeed, messages, read_message, resync_marker

log = logging.getLogger("kvgraph.changes")
DATAGRAM_BYTES = 60_000
MAX_DATAGRAMS = 16
RETRY_BEHIND = 0.05  # seconds before a full peer is offered its resync marker again
_GONE = (errno.ECONNREFUSED, errno.ENOENT)
_FULL = (errno.EAGAIN, errno.ENOBUFS)


def folder_of(path: str) -> Path:
    """The folder of the sockets of every process serving the SQLite file at `path`."""
    real = os.path.realpath(path)
    digest = hashlib.sha256(real.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / f"kvgraph-{os.getuid()}-{digest}"


def private_folder(folder: Path) -> None:
    """Make `folder` (mode 0700), or make sure the one there is this user's own private folder;
    StoreError saying what is wrong with it otherwise."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    try:
        found = folder.lstat()
    except OSError as exc:
        raise StoreError(f"cannot make the change-relay folder {folder}: {exc}") from exc
    problem = _folder_problem(found)
    if problem is not None:
        raise StoreError(
            f"refusing the change-relay folder {folder}: {problem}; kvgraph makes it itself, "
            "private to the user it runs as: remove it (or set TMPDIR to a folder of your own)"
        )


def _folder_problem(found: os.stat_result) -> str | None:
    """Why a found folder is not one kvgraph may relay through (None: it is)."""
    if stat.S_ISLNK(found.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(found.st_mode):
        return "it is not a folder"
    if found.st_uid != os.getuid():
        return f"it belongs to another user (uid {found.st_uid}, not {os.getuid()})"
    if found.st_mode & 0o077:
        return f"others may write to it or read it (mode {stat.S_IMODE(found.st_mode):o}, not 700)"
    return None


def datagrams(keys: Iterable[str]) -> list[bytes]:
    """The datagrams carrying `keys` (`changes.messages`), or one resync marker."""
    return messages(keys, DATAGRAM_BYTES, MAX_DATAGRAMS)


class SocketRelay:
    """This process's socket in the file's folder: receives others' changes, sends its own."""

    def __init__(self, path: str, feed: ChangeFeed) -> None:
        self.folder, self.feed = folder_of(path), feed
        self.address = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.sock"
        self._sock: socket.socket | None = None
        self._behind: set[str] = set()  # peers owed a resync marker (their queue was full)
        self._retry: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Bind this process's socket and receive on the running loop."""
        private_folder(self.folder)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind(str(self.address))
        self._sock = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._receive)

    def stop(self) -> None:
        """Unbind and remove the socket (idempotent)."""
        if self._retry is not None:
            self._retry.cancel()
        if self._sock is not None:
            with contextlib.suppress(RuntimeError):  # the loop may be closing already
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
            self.address.unlink(missing_ok=True)

    def _receive(self) -> None:
        while self._sock is not None:
            try:
                data = self._sock.recv(DATAGRAM_BYTES + 1024)
            except (BlockingIOError, InterruptedError):
                return
            _, keys = read_message(data)
            if keys is None:
                self.feed.resync()
            else:
                self.feed.publish(keys)

    def peers(self) -> list[str]:
        """The other processes' sockets."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        own = self.address.name
        return [str(self.folder / name) for name in names if name.endswith(".sock") and name != own]

    def send(self, keys: Iterable[str]) -> None:
        """Send the changed keys to every other process (never blocks)."""
        if self._sock is None:
            return
        messages = datagrams(keys)
        for peer in self.peers():
            for message in messages:
                if not self._send_one(peer, message):
                    break

    def _send_one(self, peer: str, message: bytes) -> bool:
        """Send one datagram; False if the peer is gone or full (then owed a resync)."""
        assert self._sock is not None
        try:
            self._sock.sendto(message, peer)
        except OSError as exc:
            if exc.errno in _GONE:
                with contextlib.suppress(OSError):
                    os.unlink(peer)  # its process is gone
            elif exc.errno in _FULL:
                self._owe(peer)
            else:
                log.warning("cannot relay changes to %s: %s", peer, exc)
            return False
        return True

    def _owe(self, peer: str) -> None:
        self._behind.add(peer)
        if self._retry is None:
            loop = asyncio.get_running_loop()
            self._retry = loop.call_later(RETRY_BEHIND, self._pay)

    def _pay(self) -> None:
        """Offer each peer that missed a change its resync marker again."""
        self._retry = None
        behind, self._behind = self._behind, set()
        if self._sock is None:
            return
        for peer in behind:
            self._send_one(peer, resync_marker())
