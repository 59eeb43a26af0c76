"""The server's wire format: length-prefixed JSON frames over a Unix-domain socket.

Imported by the client path of every ``sleuth search``, before anything heavy: standard
library only, and only the cheap parts of it.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket

SOCKET_FILE = "serve.sock"  # in the index folder (mode 0700); the socket itself is 0600
LOCK_FILE = "serve.lock"  # held for a server's life: one server per index
MAX_FRAME = 256 << 20  # a --batch of queries on stdin, or the JSON of many hits
VERSION = 1
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """The other side sent something that is not a frame, or went away mid-frame."""


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    # ASCII JSON: file names that are not UTF-8 reach Python as lone surrogates, which only
    # survive JSON as \u escapes.
    data = json.dumps(message, ensure_ascii=True).encode("ascii")
    if len(data) > MAX_FRAME:
        raise WireError(f"message of {len(data)} bytes is too large")
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive(sock: socket.socket) -> dict[str, Any]:
    (size,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes is too large")
    try:
        message = json.loads(_exactly(sock, size))
    except ValueError as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise WireError("a frame must hold a JSON object")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes:
    parts: list[bytes] = []
    left = size
    while left:
        part = sock.recv(min(left, 1 << 20))
        if not part:
            raise WireError("connection closed mid-frame")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
