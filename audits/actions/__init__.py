"""Every write to audit statements, auditors and their qualifications.

Each function is keyword-only, runs in one transaction, writes its history row in it (history.record) and
sends mail only after commit. Bad input raises config.errors.DomainError and stores nothing.

Split by responsibility; import from here (``from audits import actions``) as before:
- inputs: input shapes, their text parsers and validation (criteria, fingerprints, findings, PDF);
- statements: submitting and changing statements;
- verification: verification links, the auditor's answers and answers staff record;
- findings: serious qualifications -> compliance incident;
- auditors: auditors, their approval and qualifications;
- ccadb: the import of CCADB's audit columns;
- _common: the actor and field-error helpers all of them share.
"""

from __future__ import annotations

from audits.actions.auditors import (
    auditor_create,
    auditor_set_approval,
    auditor_update,
    qualification_record,
)
from audits.actions.ccadb import CCADBImportSummary, statements_import_ccadb
from audits.actions.findings import INCIDENT_WHITEBOARD, log  # noqa: F401  (log: the old module-level logger)
from audits.actions.inputs import (
    MAX_STATEMENT_FILE_BYTES,
    PDF_MAGIC,
    CriterionInput,
    FindingInput,
    criteria_from_text,
    findings_from_text,
    fingerprints_from_text,
    validate_pdf,
)
from audits.actions.statements import statement_submit, statement_update
from audits.actions.verification import (
    CHANGED_AFTER_SENDING,
    VERIFICATION_LINK_LIFETIME,
    VERIFICATION_SALT,
    VerificationLinkError,
    current_digest,
    statement_answer_verification,
    statement_request_verification,
    statement_set_verification,
    verification_content,
    verification_mail,
    verification_request_for_token,
    verification_token,
)

# Callers import these error classes from here too (audits.forms: DomainError).
from config.errors import DomainError, NotPermitted, TransitionError

__all__ = [
    "CCADBImportSummary",
    "CHANGED_AFTER_SENDING",
    "CriterionInput",
    "DomainError",
    "FindingInput",
    "INCIDENT_WHITEBOARD",
    "MAX_STATEMENT_FILE_BYTES",
    "NotPermitted",
    "PDF_MAGIC",
    "TransitionError",
    "VERIFICATION_LINK_LIFETIME",
    "VERIFICATION_SALT",
    "VerificationLinkError",
    "auditor_create",
    "auditor_set_approval",
    "auditor_update",
    "criteria_from_text",
    "findings_from_text",
    "fingerprints_from_text",
    "qualification_record",
    "statement_answer_verification",
    "statement_request_verification",
    "verification_mail",
    "statement_set_verification",
    "statement_submit",
    "statement_update",
    "statements_import_ccadb",
    "current_digest",
    "validate_pdf",
    "verification_content",
    "verification_request_for_token",
    "verification_token",
]
