"""Paths of the fixtures the registry tests read, and the generated-certificate module on sys.path.

A uniquely named module (not conftest) so `from registry_data import NSS` cannot pick up
another folder's conftest.
"""

from __future__ import annotations

import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NSS = FIXTURES / "nss"
CERTS = FIXTURES / "certs"
REGISTRY = FIXTURES / "registry"

if str(FIXTURES.parent / "domain") not in sys.path:
    sys.path.insert(0, str(FIXTURES.parent / "domain"))  # certgen
