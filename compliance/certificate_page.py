"""What the certificate page shows of incidents (registered with registry.related in ComplianceConfig.ready()):
the incidents whose affected-certificate list names the certificate, as far as the viewer may see them
(security-sensitive incidents only to those accounts.permissions lets open them)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from compliance.models import Incident
from registry.related import Related


def incidents(*, certificate: Any, user: Any) -> list[Related]:
    qs = (
        Incident.objects.visible_to(user)
        .filter(Q(affected_certificates__certificate=certificate) | Q(affected_certificates__sha256=certificate.sha256))
        .distinct()
        .order_by("-number")
    )
    return [Related(text=str(i), url=i.get_absolute_url(), note=i.get_status_display()) for i in qs]
