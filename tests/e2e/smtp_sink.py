"""A real SMTP server on loopback for the end-to-end tests: it accepts every message and keeps it.

Threaded (socketserver), plain SMTP with EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT; no TLS,
no AUTH. A message is recorded the moment its DATA ends, before the 250 that accepts it goes back,
so a client killed while waiting for that reply still counts as having delivered it (the strictest
reading of "arrived").

`stall_quit_after(n)` lets a test hold senders inside the window the outbox cannot close: once n
messages are accepted, a QUIT is not answered until `release()`, so the sender has its 250 but has
not yet returned to mark its row sent.
"""

from __future__ import annotations

import email
import email.policy
import re
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

HOSTNAME = "sink.rootwatch.test"
MAX_LINE = 10_000  # RFC 5321 allows 1,000 octets a line; more is a client gone wrong, refused.
MAX_MESSAGE = 10 * 1024 * 1024
_PATH = re.compile(r"^\s*<([^>]*)>(.*)$")


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope, the bytes, and the parsed message."""

    number: int  # 1, 2, ... in the order DATA ended
    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes
    message: EmailMessage = field(repr=False)
    at: float  # time.monotonic() when it arrived

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    @property
    def notification_ids(self) -> tuple[int, ...]:
        """The Notification row(s) it carries (X-Rootwatch-Notification: one pk, or a digest's comma list)."""
        value = self.header("X-Rootwatch-Notification")
        return tuple(int(v) for v in value.split(",")) if value else ()


class SMTPSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._lock = threading.Condition()
        self._messages: list[Received] = []
        self._stall_after: int | None = None
        self._stalled = 0
        self._released = threading.Event()
        self.conversations = 0
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 60

            def handle(self):
                sink._conversation(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((host, port), Handler)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-sink", daemon=True)

    # --- life --------------------------------------------------------------------------------

    def start(self) -> SMTPSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SMTPSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what arrived ------------------------------------------------------------------------

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def to(self, address: str) -> list[Received]:
        address = address.lower()
        return [m for m in self.messages if address in (r.lower() for r in m.rcpt_to)]

    def keys(self) -> list[tuple[str, str | None]]:
        """(first recipient, X-Rootwatch-Notification) per message, in arrival order."""
        return [(m.rcpt_to[0].lower(), m.header("X-Rootwatch-Notification")) for m in self.messages]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float) -> list[Received]:
        """Wait until predicate(messages) holds; returns the messages then. AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(list(self._messages)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"SMTP sink: condition not met within {timeout:.0f} s; "
                                         f"{len(self._messages)} message(s) arrived")
                self._lock.wait(min(left, 0.5))
            return list(self._messages)

    def wait_quiet(self, seconds: float, timeout: float) -> list[Received]:
        """Wait until no message arrived for `seconds` (at most `timeout`); returns the messages."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            last = messages[-1].at if messages else 0.0
            if time.monotonic() - last >= seconds:
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"SMTP sink: mail still arriving after {timeout:.0f} s")
            time.sleep(0.1)

    # --- holding senders in the window between 250 and QUIT ----------------------------------

    def stall_quit_after(self, accepted: int) -> None:
        with self._lock:
            self._released.clear()
            self._stall_after = accepted

    @property
    def stalled(self) -> int:
        """Conversations waiting now for the answer to their QUIT."""
        with self._lock:
            return self._stalled

    def release(self) -> None:
        with self._lock:
            self._stall_after = None
        self._released.set()

    # --- the protocol ------------------------------------------------------------------------

    def _conversation(self, rfile, wfile) -> None:
        def reply(line: str) -> None:
            wfile.write(line.encode("ascii") + b"\r\n")
            wfile.flush()

        with self._lock:
            self.conversations += 1
        greeted = False
        mail_from: str | None = None
        rcpts: list[str] = []
        reply(f"220 {HOSTNAME} ESMTP test sink")
        while True:
            raw = rfile.readline(MAX_LINE + 1)
            if not raw:
                return  # the client went away
            if len(raw) > MAX_LINE:
                reply("500 5.5.2 Line too long")
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                greeted, mail_from, rcpts = True, None, []
                wfile.write(f"250-{HOSTNAME}\r\n250-8BITMIME\r\n250-SIZE {MAX_MESSAGE}\r\n250 SMTPUTF8\r\n".encode())
                wfile.flush()
            elif verb == "HELO":
                greeted, mail_from, rcpts = True, None, []
                reply(f"250 {HOSTNAME}")
            elif verb == "MAIL":
                match = _PATH.match(arg[5:]) if arg.upper().startswith("FROM:") else None
                if not greeted:
                    reply("503 5.5.1 Say EHLO or HELO first")
                elif mail_from is not None:
                    reply("503 5.5.1 Sender already given")
                elif match is None:
                    reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                else:
                    mail_from, rcpts = match.group(1), []
                    reply("250 2.1.0 OK")
            elif verb == "RCPT":
                match = _PATH.match(arg[3:]) if arg.upper().startswith("TO:") else None
                if mail_from is None:
                    reply("503 5.5.1 MAIL first")
                elif match is None or not match.group(1):
                    reply("501 5.5.4 Syntax: RCPT TO:<address>")
                else:
                    rcpts.append(match.group(1))
                    reply("250 2.1.5 OK")
            elif verb == "DATA":
                if arg:
                    reply("501 5.5.4 DATA takes no argument")
                    continue
                if not rcpts:
                    reply("503 5.5.1 RCPT first")
                    continue
                reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._read_data(rfile)
                if data is None:
                    return  # the client went away mid-message: nothing arrived
                if len(data) > MAX_MESSAGE:
                    reply("552 5.3.4 Message too big")
                else:
                    number = self._record(mail_from or "", rcpts, data)
                    reply(f"250 2.0.0 OK queued as {number}")
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                reply("250 2.0.0 OK")
            elif verb == "NOOP":
                reply("250 2.0.0 OK")
            elif verb == "QUIT":
                self._maybe_stall()
                try:
                    reply("221 2.0.0 Bye")
                except OSError:
                    pass  # the client was killed while it waited
                return
            else:
                reply("500 5.5.2 Command not recognised")

    @staticmethod
    def _read_data(rfile) -> bytes | None:
        lines: list[bytes] = []
        size = 0
        while True:
            raw = rfile.readline(MAX_LINE + 1)
            if not raw:
                return None
            if raw in (b".\r\n", b".\n"):
                return b"".join(lines)
            if raw.startswith(b"."):
                raw = raw[1:]  # dot-stuffing (RFC 5321 4.5.2)
            size += len(raw)
            if size <= MAX_MESSAGE:
                lines.append(raw)

    def _record(self, mail_from: str, rcpts: list[str], data: bytes) -> int:
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self._lock:
            number = len(self._messages) + 1
            self._messages.append(Received(number=number, mail_from=mail_from, rcpt_to=tuple(rcpts), data=data,
                                           message=message, at=time.monotonic()))
            self._lock.notify_all()
            return number

    def _maybe_stall(self) -> None:
        with self._lock:
            if self._stall_after is None or len(self._messages) < self._stall_after:
                return
            self._stalled += 1
        try:
            self._released.wait(timeout=120)
        finally:
            with self._lock:
                self._stalled -= 1
