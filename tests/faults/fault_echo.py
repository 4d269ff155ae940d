"""A threaded echo server on 127.0.0.1 (real sockets) for the fault-tool tests."""

from __future__ import annotations

import socket
import threading


class EchoServer:
    """Echo every byte back; ``close_after`` bytes received, close the connection."""

    def __init__(self, sock: socket.socket | None = None, *, host: str = "127.0.0.1") -> None:
        self.sock = sock or socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.address: tuple[str, int] = self.sock.getsockname()
        self.close_after: int | None = None
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        seen = 0
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
                seen += len(data)
                if self.close_after is not None and seen >= self.close_after:
                    break
        except OSError:
            pass
        conn.close()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(timeout=5)


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = sock.recv(size - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)
