"""A tiny SMTP server on a loopback port that keeps what it receives (tests only)."""

from __future__ import annotations

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self._send("220 sink ready")
        data_mode, lines = False, []
        while line := self.rfile.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if text == ".":
                    self.server.messages.append("\n".join(lines))
                    data_mode, lines = False, []
                    self._send("250 queued")
                else:
                    lines.append(text[1:] if text.startswith("..") else text)
                continue
            verb = text[:4].upper()
            if verb == "DATA":
                data_mode = True
                self._send("354 end with .")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            elif verb in ("EHLO", "HELO"):
                self._send("250 sink")
            else:
                self._send("250 ok")

    def _send(self, reply: str) -> None:
        self.wfile.write((reply + "\r\n").encode())


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]
