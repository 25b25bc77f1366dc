"""Tiny proxies on 127.0.0.1 for tests: HTTP CONNECT and SOCKS5 (no authentication)."""

from __future__ import annotations

import socket
import socketserver
import struct
import threading


class _Proxy:
    """Records the host:port targets it tunnels to. Use as a context manager."""

    scheme = ""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[socketserver.BaseRequestHandler]:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class ConnectProxy(_Proxy):
    scheme = "http"

    def _handler(self):
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                if method != "CONNECT":
                    self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                proxy.targets.append(target)
                host, port = target.rsplit(":", 1)
                with socket.create_connection((host.strip("[]"), int(port))) as upstream:
                    self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _pipe(self.request, upstream)

        return Handler


class Socks5Proxy(_Proxy):
    scheme = "socks5"

    def _handler(self):
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                s = self.request
                _, methods = s.recv(2)
                s.recv(methods)
                s.sendall(b"\x05\x00")  # no authentication
                _, _, _, address_type = s.recv(4)  # version, command (CONNECT), reserved
                if address_type == 1:
                    host = socket.inet_ntoa(s.recv(4))
                elif address_type == 3:
                    host = s.recv(s.recv(1)[0]).decode()
                else:
                    host = socket.inet_ntop(socket.AF_INET6, s.recv(16))
                (port,) = struct.unpack(">H", s.recv(2))
                proxy.targets.append(f"{host}:{port}")
                with socket.create_connection((host, port)) as upstream:
                    s.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("0.0.0.0") + struct.pack(">H", 0))
                    _pipe(s, upstream)

        return Handler


def _pipe(a: socket.socket, b: socket.socket) -> None:
    def copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    other = threading.Thread(target=copy, args=(b, a), daemon=True)
    other.start()
    copy(a, b)
    other.join()
