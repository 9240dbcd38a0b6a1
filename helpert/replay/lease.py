"""Per-session leases, so that several ``helpert batch`` processes (on one machine or on several
sharing a filesystem) can work through one run folder together: each session is replayed by exactly
one of them at a time, and a session whose holder died is taken over.

A lease is a file ``sessions/<id>/lease`` created with ``O_CREAT | O_EXCL`` (atomic on local
filesystems and on NFSv3+), holding its owner (host, pid, kernel boot and pid namespace, a random token). The owner touches it every
``ttl / 6`` seconds (the heartbeat). Another process may take it over when it is *stale*: its owner is
a process of this host (same boot, same pid namespace) that no longer exists (a ``kill -9``: taken over
at once), or its mtime is older
than ``ttl`` (a holder on another host that stopped). Takeover renames the stale file aside (only one
contender's rename can succeed) and creates a fresh lease with ``O_EXCL``. If the rename moved a lease
that was fresh after all (a race with another takeover), the owner of that lease notices at its next
heartbeat or turn (:attr:`Lease.lost`) and stops working on the session; outputs are written atomically
and only while the lease is held, so a session is never written twice.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LEASE_FILE = "lease"
DEFAULT_TTL_S = float(os.environ.get("HELPERT_LEASE_TTL", "60"))


def _node() -> str:
    """This kernel boot and pid namespace: a pid means the same process only where these match (two
    containers may share a host name and a filesystem, not their pids)."""
    parts = []
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        pass
    return ":".join(parts)


NODE = _node()


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    token: str
    node: str = NODE

    @classmethod
    def me(cls) -> "Owner":
        return cls(host=socket.gethostname(), pid=os.getpid(), token=secrets.token_hex(8))

    def to_json(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "token": self.token, "node": self.node})

    @classmethod
    def read(cls, path: Path) -> "Owner | None":
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            return cls(host=str(d["host"]), pid=int(d["pid"]), token=str(d["token"]), node=str(d.get("node", "")))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):  # torn write (killed while creating it): an owner of no one
            return cls(host="", pid=0, token="")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def is_stale(path: Path, owner: Owner, ttl: float) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    if owner.host == socket.gethostname() and owner.node == NODE and NODE and owner.pid and not _alive(owner.pid):
        return True
    if not owner.token and age > 5:  # torn lease file, not being written any more
        return True
    return age > ttl


class Lease:
    """A held lease; :meth:`release` (or the context manager) gives it back."""

    def __init__(self, path: Path, owner: Owner, ttl: float):
        self.path, self.owner, self.ttl = path, owner, ttl
        self._stop = threading.Event()
        self._lost = False
        self._thread = threading.Thread(target=self._beat, name=f"lease:{path.parent.name}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 6):
            if not self.still_mine():
                self._lost = True
                return
            try:
                os.utime(self.path)
            except FileNotFoundError:
                self._lost = True
                return

    def still_mine(self) -> bool:
        found = Owner.read(self.path)
        return found is not None and found.token == self.owner.token

    @property
    def lost(self) -> bool:
        if not self._lost and not self.still_mine():
            self._lost = True
        return self._lost

    def release(self) -> None:
        self._stop.set()
        if self.still_mine():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class LeaseLost(RuntimeError):
    """Another process took this session over (this one was judged dead): stop working on it."""


def claim(session_dir: Path, ttl: float = DEFAULT_TTL_S) -> tuple[Lease | None, Owner | None]:
    """Try to take the session's lease: ``(lease, None)`` on success, ``(None, holder)`` when a live
    process holds it."""
    session_dir.mkdir(parents=True, exist_ok=True)
    path = session_dir / LEASE_FILE
    me = Owner.me()
    for _ in range(20):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = Owner.read(path)
            if holder is None:
                continue  # released between our open and read
            if not is_stale(path, holder, ttl):
                return None, holder
            aside = path.with_name(f"{LEASE_FILE}.stale.{me.token}")
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                continue  # someone else took it over first
            aside.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(me.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        return Lease(path, me, ttl), None
    holder = Owner.read(path)
    return None, holder
