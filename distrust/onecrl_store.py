"""The one writer of the managed OneCRL collection (OneCRLEntry rows).

Two callers, each inside its own transaction: the import action (distrust/actions.py) and the
Release step's completion hook (distrust/workflow.py). It lives apart from actions.py so the
workflow table can name the hook without importing the actions, which import the table.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from distrust import artifacts, selectors
from distrust.models import Artifact, DistrustAction, OneCRLEntry
from pki.onecrl import OneCRLRecord, parse_record, record_id


def store_record(rec: OneCRLRecord, *, action: DistrustAction | None = None) -> tuple[OneCRLEntry, bool]:
    """Insert or update one record, keyed by its id (records already held are updated)."""
    key = rec.key()
    block_key = selectors.onecrl_block_key(*key) if rec.by_issuer_serial else (
        "subject:" + base64.b64encode(key[0]).decode() + "/" + base64.b64encode(key[1]).decode())
    return OneCRLEntry.objects.update_or_create(
        record_id=rec.id or record_id(key),
        defaults=dict(
            issuer_der=rec.issuer_der, serial_content=rec.serial_content, subject_der=rec.subject_der,
            pubkey_hash=rec.pubkey_hash, block_key=block_key, enabled=rec.enabled, bug=rec.details.bug,
            who=rec.details.who, why=rec.details.why, name=rec.details.name, created=rec.details.created,
            schema=rec.schema, last_modified=rec.last_modified, **({"action": action} if action else {}),
        ),
    )


def publish_action_records(action: DistrustAction, *, who: str) -> int:
    """Put the action's OneCRL records into the managed collection once published; how many were stored."""
    if action.onecrl_published_on is None or Artifact.Kind.ONECRL not in artifacts.required_artifacts(action):
        return 0
    records = artifacts.onecrl_records(action, who=who,
                                       created=datetime.combine(action.onecrl_published_on, datetime.min.time(),
                                                                tzinfo=UTC))
    for r in records:
        store_record(parse_record(r, source="generated"), action=action)
    return len(records)
