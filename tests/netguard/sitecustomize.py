"""Network guard for tests (``tests/netguard`` on PYTHONPATH makes every Python process start with it; tests
in the same process call :func:`install`). It refuses, and logs to ``$HELPERT_TEST_SOCKET_LOG``, every
attempt to reach a network: ``connect``/``connect_ex``/``sendto``/``sendmsg`` on an internet socket of any
family (``socket.socket()`` with its default family included) to any address, loopback too, and a
``bind`` or a name lookup that is not loopback. Creating an unconnected socket is allowed: urllib3 probes
IPv6 support at import by binding a socket to ``::1``, which sends nothing."""

from __future__ import annotations

import os
import socket

LOOPBACK = {"localhost", "127.0.0.1", "::1", "", "0.0.0.0"}
_real_socket = socket.socket
_real_getaddrinfo = socket.getaddrinfo


def _log(what: str) -> None:
    path = os.environ.get("HELPERT_TEST_SOCKET_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(what + "\n")


def _refuse(what: str):
    _log(what)
    raise OSError(f"network disabled by the test guard: {what}")


def _internet(sock) -> bool:
    return sock.family in (socket.AF_INET, socket.AF_INET6)


class GuardedSocket(_real_socket):
    def connect(self, address):
        if _internet(self):
            _refuse(f"connect {address!r}")
        return super().connect(address)

    def connect_ex(self, address):
        if _internet(self):
            _refuse(f"connect_ex {address!r}")
        return super().connect_ex(address)

    def sendto(self, data, *args):
        if _internet(self):
            _refuse(f"sendto {args[-1]!r}")
        return super().sendto(data, *args)

    def sendmsg(self, *args):
        if _internet(self):
            _refuse("sendmsg")
        return super().sendmsg(*args)

    def bind(self, address):
        if _internet(self) and str(address[0]) not in LOOPBACK:
            _refuse(f"bind {address!r}")
        return super().bind(address)


def _getaddrinfo(host, *args, **kwargs):
    if host is not None and str(host) not in LOOPBACK:
        _refuse(f"getaddrinfo {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket = GuardedSocket
    socket.getaddrinfo = _getaddrinfo


def uninstall() -> None:
    socket.socket = _real_socket
    socket.getaddrinfo = _real_getaddrinfo


if os.environ.get("HELPERT_TEST_SOCKET_LOG"):
    install()
