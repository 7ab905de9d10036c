"""Shared helpers for the registry tests: fixture paths and the generated-certificate module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NSS = FIXTURES / "nss"
CERTS = FIXTURES / "certs"
REGISTRY = FIXTURES / "registry"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "domain"))


@pytest.fixture
def import_certs(db):
    """import_certs(*ders_or_pems) -> ImportSummary, as the system (no actor)."""
    from compliance.actions.registry import certificates_import

    def run(*blobs, owner=None):
        items = [(b if isinstance(b, bytes) else b.encode(), f"item {n}") for n, b in enumerate(blobs, start=1)]
        return certificates_import(actor=None, items=items, owner=owner)

    return run
