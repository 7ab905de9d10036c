"""Writes to the CA registry: certificates, certdata.txt, CCADB records, root store entries, CA owners.

Every function is keyword-only, takes the acting user as `actor`, runs in one transaction,
writes a history row (history.record), and raises config.errors.DomainError naming the bad input (so
nothing is stored when any input is bad). One module per subject; the names are re-exported here.
"""

from registry.actions._common import BATCH, Progress, name_match_key
from registry.actions.ccadb import CCADBSummary, ccadb_records_import, read_ccadb_records
from registry.actions.certdata import CertdataSummary, certdata_import, root_store_entry_add, root_store_entry_update
from registry.actions.certificates import (
    ImportSummary,
    _certificate_values,
    certificates_import,
    parse_certificate_items,
)
from registry.actions.chaining import ChainingSummary, owners_attach_by_chaining
from registry.actions.owners import ca_owner_create, ca_owner_update, representation_grant, representation_revoke
from registry.actions.releases import DistrustPlanItem, release_publish, release_ship_distrust

__all__ = [
    "BATCH",
    "Progress",
    "name_match_key",
    "CCADBSummary",
    "ccadb_records_import",
    "read_ccadb_records",
    "CertdataSummary",
    "certdata_import",
    "root_store_entry_add",
    "root_store_entry_update",
    "ImportSummary",
    "_certificate_values",
    "certificates_import",
    "parse_certificate_items",
    "ca_owner_update",
    "ca_owner_create",
    "representation_grant",
    "representation_revoke",
    "DistrustPlanItem",
    "release_publish",
    "release_ship_distrust",
    "ChainingSummary",
    "owners_attach_by_chaining",
]
