"""Every write of the distrust feature: one function per change, atomic, with its history row
(history.record: the step in `field`, old and new state, the reason in `summary`).

Bad input raises DomainError (400) and changes nothing; a transition the workflow does
not allow, or whose gate fails, raises TransitionError (409) naming what is missing.

One module per subject; the names are re-exported here, so callers import `distrust.actions`.
"""

from __future__ import annotations

from config.errors import DomainError, NotPermitted, TransitionError
from distrust.actions._common import CHOICES, Status
from distrust.actions.bulk import SOURCES, BulkPreview, BulkRow, bulk_targets_add, bulk_targets_preview
from distrust.actions.impact import CSV_COLUMNS, usage_add, usage_import_csv, usage_remove
from distrust.actions.implement import artifacts_generate, closure_decide
from distrust.actions.onecrl import onecrl_import
from distrust.actions.steps import action_create, step_complete, step_reopen, step_save
from distrust.actions.targets import parse_issuer, parse_serial_hex, target_add, target_remove
from distrust.actions.testing import test_certificate_add, test_certificate_remove, test_run

__all__ = [
    "DomainError",
    "NotPermitted",
    "TransitionError",
    "CHOICES",
    "Status",
    "CSV_COLUMNS",
    "SOURCES",
    "BulkPreview",
    "BulkRow",
    "bulk_targets_add",
    "bulk_targets_preview",
    "usage_add",
    "usage_import_csv",
    "usage_remove",
    "artifacts_generate",
    "closure_decide",
    "onecrl_import",
    "action_create",
    "step_complete",
    "step_reopen",
    "step_save",
    "parse_issuer",
    "parse_serial_hex",
    "target_add",
    "target_remove",
    "test_certificate_add",
    "test_certificate_remove",
    "test_run",
]
