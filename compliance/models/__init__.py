"""Compliance models: the CA registry (registry.py) and incidents (incidents.py)."""

from compliance.models.incidents import *  # noqa: F401,F403
from compliance.models.registry import *  # noqa: F401,F403
