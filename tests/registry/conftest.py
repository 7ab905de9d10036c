"""Registry tests: make certgen (tests/domain) importable before the test modules load."""

import registry_data  # noqa: F401
