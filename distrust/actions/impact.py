"""Measure impact: usage figures entered or imported as CSV."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from config.errors import DomainError
from distrust import selectors, workflow
from distrust.actions._common import (
    _locked,
    _require_manage,
    _require_may_change,
)
from distrust.models import (
    DistrustAction,
    UsageFigure,
)
from history import actions as history

# --- impact ---------------------------------------------------------------------------------

def _figure(action: DistrustAction, row: dict[str, Any], *, where: str, source: str) -> UsageFigure:
    root = str(row.get("root") or "").strip()
    metric = str(row.get("metric") or "").strip()
    if not root or not metric:
        raise DomainError(f"{where}: give the root and the metric.", errors={"root": ["required"]})
    try:
        value = Decimal(str(row.get("value", "")).strip())
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise DomainError(f"{where}: value {row.get('value')!r} is not a number.",
                          errors={"value": ["not a number"]}) from None
    cert = selectors.certificate_by_fingerprint(root) if len(re.sub(r"[\s:]", "", root)) == 64 else None
    return UsageFigure(action=action, root=root, certificate=cert, metric=metric, value=value,
                       period=str(row.get("period") or "").strip(), source=source)


@transaction.atomic
def usage_add(*, actor: Any, action: DistrustAction, figures: list[dict[str, Any]]) -> list[UsageFigure]:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.USAGE_FIGURES, "change the usage figures")
    if not figures:
        raise DomainError("Give at least one usage figure.")
    rows = [_figure(action, f, where=f"figure {i}", source="entered") for i, f in enumerate(figures, start=1)]
    UsageFigure.objects.bulk_create(rows)
    history.record(actor=actor, subject=action, action="usage_added", field=workflow.home(workflow.USAGE_FIGURES),
                   detail={"count": len(rows)})
    return rows


CSV_COLUMNS = ("root", "metric", "value", "period")


@transaction.atomic
def usage_import_csv(*, actor: Any, action: DistrustAction, text: str) -> list[UsageFigure]:
    """CSV with a header: root (label or SHA-256), metric, value, period (optional). All rows or none."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.USAGE_FIGURES, "change the usage figures")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("root", "metric", "value") if c not in header]
    if missing:
        raise DomainError(f"The CSV lacks the column(s) {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)}).",
                          errors={"csv": ["missing columns"]})
    rows = []
    for n, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): v for k, v in raw.items() if k is not None}
        rows.append(_figure(action, row, where=f"CSV line {n}", source="csv"))
    if not rows:
        raise DomainError("The CSV has no rows.", errors={"csv": ["empty"]})
    UsageFigure.objects.bulk_create(rows)
    history.record(actor=actor, subject=action, action="usage_imported", field=workflow.home(workflow.USAGE_FIGURES),
                   detail={"count": len(rows)})
    return rows


@transaction.atomic
def usage_remove(*, actor: Any, action: DistrustAction, figure_id: int) -> None:
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.USAGE_FIGURES, "change the usage figures")
    deleted, _ = action.usage_figures.filter(pk=figure_id).delete()
    if not deleted:
        raise DomainError(f"Action {action.pk} has no usage figure {figure_id}.")
    history.record(actor=actor, subject=action, action="usage_removed", field=workflow.home(workflow.USAGE_FIGURES),
                   detail={"id": figure_id})
