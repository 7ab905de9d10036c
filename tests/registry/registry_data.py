"""Paths of the fixtures the registry tests read."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NSS = FIXTURES / "nss"
CERTS = FIXTURES / "certs"
REGISTRY = FIXTURES / "registry"
