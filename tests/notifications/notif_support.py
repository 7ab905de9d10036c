"""Constants shared by the reminders tests (a plain module: conftest is not importable by name)."""

from datetime import UTC, datetime

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
