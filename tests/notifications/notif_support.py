"""Constants shared by the reminders tests (a plain module: conftest is not importable by name)."""

import socket
import threading
from datetime import UTC, datetime
from email import message_from_bytes

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingHandler:
    """Keeps every message the SMTP server accepted, thread-safely."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "msg": msg})
        return "250 Message accepted for delivery"

    def keys(self) -> list[tuple[str, str]]:
        """(recipient, notification id(s)) per message."""
        with self.lock:
            return [(m["to"][0], m["msg"]["X-Rootwatch-Notification"]) for m in self.messages]
