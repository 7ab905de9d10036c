"""What the certificate page shows of audits (registered with registry.related in AuditsConfig.ready()): the
audit statements that name the certificate in scope, as far as the viewer may see them (a CA-provided
statement waiting for its auditor: staff and that CA's representatives only)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts import permissions
from audits.models import AuditStatement
from registry.related import Related


def audit_statements(*, certificate: Any, user: Any) -> list[Related]:
    qs = (
        AuditStatement.objects.filter(permissions.statement_visibility_q(user))
        .filter(Q(fingerprints__certificate=certificate) | Q(fingerprints__sha256=certificate.sha256))
        .select_related("auditor")
        .distinct()
        .order_by("-period_end", "-pk")
    )
    rows = []
    for s in qs:
        period = (f"{s.period_start:%Y-%m-%d} to {s.period_end:%Y-%m-%d}" if s.period_start and s.period_end
                  else (f"{s.statement_date:%Y-%m-%d}" if s.statement_date else ""))  # fmt: skip
        auditor = s.auditor.name if s.auditor else "auditor not recorded"
        rows.append(Related(text=f"{s.get_kind_display()} audit, {period or 'no period'} ({auditor})",
                            url=s.get_absolute_url(), note=s.get_verification_display()))
    return rows
