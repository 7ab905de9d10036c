"""What the certificate page shows of distrust (registered with registry.related in DistrustConfig.ready()):
the certificate's OneCRL status and the distrust actions naming it, as far as the viewer may see them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts import permissions
from distrust.models import DistrustAction, OneCRLEntry
from distrust.selectors import onecrl_block_key
from registry.related import Related


def onecrl_status(*, certificate: Any, user: Any) -> list[Related]:
    """The OneCRL records blocking the certificate (by issuer + serial); the collection is public."""
    key = onecrl_block_key(bytes(certificate.issuer_der), bytes.fromhex(certificate.serial_hex))
    rows = []
    for entry in OneCRLEntry.objects.filter(block_key=key).select_related("action").order_by("-last_modified", "pk"):
        state = "Revoked (record enabled)" if entry.enabled else "Record disabled"
        note = ", ".join(x for x in (f"bug {entry.bug}" if entry.bug else "", entry.created) if x)
        action = entry.action
        url = action.get_absolute_url() if action is not None and permissions.can_view_distrust(user, action) else ""
        rows.append(Related(text=f"{state}: record {entry.record_id}", url=url, note=note))
    if not rows:
        rows.append(Related(text="Not in the OneCRL collection"))
    return rows


def distrust_actions(*, certificate: Any, user: Any) -> list[Related]:
    """Distrust actions with the certificate as a target or an added cross-sign, as far as `user` may see."""
    qs = (
        DistrustAction.objects.filter(permissions.distrust_visibility_q(user))
        .filter(Q(targets__certificate=certificate) | Q(closure_items__certificate=certificate))
        .distinct()
        .order_by("-created_at", "-pk")
    )
    return [
        Related(text=a.published_title, url=a.get_absolute_url(), note=f"{a.get_kind_display()}; {a.get_state_display()}")
        for a in qs
    ]
