"""Paths of the fixtures the registry tests read."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NSS = FIXTURES / "nss"
CERTS = FIXTURES / "certs"
REGISTRY = FIXTURES / "registry"
# What load_demo reads lives beside its app (registry/demo_data/SOURCE.md), the one copy the tests read too.
DEMO_DATA = FIXTURES.parent.parent / "registry" / "demo_data"
V2_86 = DEMO_DATA / "certdata_v2.86_2026-04-09.txt"
