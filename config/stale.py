"""Stale edits: the version of what a person edits, the API's ETag / If-Match, and the three-way merge.

An editable object's version is a digest of its editable fields (its "snapshot"), not a counter stored
on the row: every path that changes those fields (an action, the admin, an import, a later action
someone adds) changes the digest without having to remember to bump a column, and no table changes.
A change A -> B -> A reads as "unchanged", which is what a merge wants: nothing the editor saw differs.

- Pages carry the snapshot they were opened on (hidden input `base`, canonical JSON) and the action
  merges inside its transaction: a field the person left as it was in `base` is not written (someone
  else's change to it survives); a field both changed, to different values, is an `EditConflict` (409)
  with both values, and nothing is written.
- The API carries only the version: a strong `ETag` on the detail and write responses; a write with
  `If-Match` naming another version is refused with `PreconditionFailed` (412) and changes nothing.
- Without `base` or `If-Match` nothing is checked, so API clients written before versions existed keep
  working; the pages always send `base`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.forms.utils import pretty_name

from config.errors import DomainError, PreconditionFailed, TransitionError

BASE_PARAM = "base"
EMPTY_LABEL = "(empty)"


def canonical(value: Any) -> Any:
    """The JSON form a value is compared and digested in: a model object as its key, dates in ISO (UTC)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime):
        # To the second: the pages show and post no finer, so a form left as it was compares equal.
        return (value.astimezone(UTC) if value.tzinfo else value).replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(canonical(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return str(value)


def version_of(snapshot: Mapping[str, Any]) -> str:
    """The version of an object: a digest of its editable fields' canonical values.

    Keyed with the secret key: the ETag goes to everyone who may read the object, and a plain digest
    would let a reader confirm a guess of a field only staff see (an auditor's contact address)."""
    from django.conf import settings

    text = json.dumps(canonical(snapshot), sort_keys=True, separators=(",", ":"))
    key = hashlib.sha256(b"rootwatch.stale:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def etag(version: str) -> str:
    return f'"{version}"'


def encode_base(snapshot: Mapping[str, Any]) -> str:
    """The hidden `base` input of an edit page: the snapshot the form was opened on."""
    return json.dumps(canonical(snapshot), sort_keys=True, separators=(",", ":"))


def base_from(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `base` a page posted, or None when it sent none (then nothing is checked)."""
    raw = data.get(BASE_PARAM) or ""
    if not raw:
        return None
    try:
        base = json.loads(raw)
    except ValueError:
        base = None
    if not isinstance(base, dict):
        raise DomainError("The form's hidden `base` is damaged: reload the page and enter the change again.",
                          errors={BASE_PARAM: ["damaged: reload the page and enter the change again"]})
    return base


def if_match(request: Any) -> tuple[str, ...] | None:
    """The versions an API write's `If-Match` header names; None when absent or `*` (no check).

    Weak tags (W/"...") never match: If-Match compares strongly (RFC 9110, 13.1.1).
    """
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        return None
    versions = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            versions.append("")
            continue
        if len(tag) < 2 or not (tag.startswith('"') and tag.endswith('"')) or '"' in tag[1:-1]:
            raise DomainError('If-Match must list entity tags in quotes, as the ETag header gives them: If-Match: "<etag>".',
                              errors={"If-Match": ["not a quoted entity tag"]})
        versions.append(tag[1:-1])
    return tuple(versions)


@dataclass(frozen=True)
class Conflict:
    """One field both people changed: what the editor started from, what they typed, what is stored now."""

    field: str
    base: Any
    yours: Any
    current: Any
    by: str

    def as_dict(self) -> dict[str, Any]:
        return {"base": self.base, "yours": self.yours, "current": self.current, "changed_by": self.by}


class EditConflict(TransitionError):
    """Saved on a stale base and a field collided: nothing was written; the conflicts say both values."""

    code = "edit_conflict"

    def __init__(self, conflicts: Mapping[str, Conflict], *, current: Mapping[str, Any], refresh: Iterable[str] = ()):
        self.conflicts = dict(conflicts)
        # Fields the editor left as they were that someone else changed: the page shows them as they are now,
        # so saving again on the new base does not put the old values back.
        self.refresh = tuple(refresh)
        self.current = canonical(dict(current))
        self.version = version_of(self.current)
        names = ", ".join(self.conflicts)
        super().__init__(
            f"Changed by someone else since you opened it: {names}. Nothing was saved; "
            "compare both values and save again on the new version.",
            errors={name: [f"{c.by or 'Someone'} changed it from {_plain(c.base)} to {_plain(c.current)}; "
                           f"yours: {_plain(c.yours)}"] for name, c in self.conflicts.items()},
        )
        self.extra = {"conflicts": {name: c.as_dict() for name, c in self.conflicts.items()},
                      "version": self.version}
        self.headers = {"ETag": etag(self.version)}


class NewerVersion(TransitionError):
    """A new version of a versioned document (an IRG report) posted on an older one than the latest:
    refused, with what changed between the two (`changes`) and the latest version to start again from."""

    code = "edit_conflict"

    def __init__(self, message: str, *, errors: dict[str, list[str]], version: int, changes: list[dict[str, Any]]):
        super().__init__(message, errors=errors)
        self.version = version
        self.changes = changes
        self.extra = {"version": version, "changes": changes}


def base_version_from(data: Mapping[str, Any], name: str = "base_version") -> int | None:
    """A posted version number (None when not sent); anything but a whole number is a 400 naming it."""
    raw = str(data.get(name) if data.get(name) is not None else "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise DomainError(f"`{name}` must be the version number the form was opened on; reload the page.",
                          errors={name: ["not a version number"]})
    return int(raw)


def stale_version(current: Mapping[str, Any]) -> PreconditionFailed:
    version = version_of(current)
    return PreconditionFailed(
        "The object changed since the version your If-Match names; nothing was changed. "
        f"GET it again (current ETag {etag(version)}) and reapply your change.",
        errors={"If-Match": ["not the current version"]}, extra={"version": version},
        headers={"ETag": etag(version)},
    )


def merge(
    *,
    current: Mapping[str, Any],
    proposed: Mapping[str, Any],
    base_version: str | Iterable[str] | None = None,
    base: Mapping[str, Any] | None = None,
    changed_by: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """The part of `proposed` to write, given the object's `current` snapshot (read under lock).

    With `base` (a page): fields equal to their base value are dropped; a field changed by both to
    different values raises EditConflict. With only `base_version` (an API If-Match): a different
    current version raises PreconditionFailed. With neither: everything proposed is written.
    """
    now = canonical(dict(current))
    if base is None:
        if base_version is None:
            return dict(proposed)
        versions = {base_version} if isinstance(base_version, str) else set(base_version)
        if version_of(now) not in versions:
            raise stale_version(now)
        return dict(proposed)
    start = canonical(dict(base))
    keep: dict[str, Any] = {}
    conflicts: dict[str, Conflict] = {}
    refresh: list[str] = []
    for key, value in proposed.items():
        mine = canonical(value)
        if key not in start or key not in now:
            keep[key] = value  # the page did not show it: nothing to compare against
        elif mine == start[key]:
            if now[key] != start[key]:
                refresh.append(key)
            continue  # left as it was: whatever is stored now stays
        elif now[key] in (start[key], mine):
            keep[key] = value
        else:
            conflicts[key] = Conflict(key, start[key], mine, now[key], changed_by(key) if changed_by else "")
    if conflicts:
        raise EditConflict(conflicts, current=now, refresh=refresh)
    return keep


# ------------------------------------------------------------------------------ pages


def _plain(value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY_LABEL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        # A list of rows (criteria, qualifications) reads one row per item, its parts space-separated.
        return "; ".join(" ".join(_plain(p) for p in v if p not in ("", None, [])) if isinstance(v, list) else str(v)
                         for v in value)
    return str(value)


def _label_value(field: forms.Field | None, value: Any) -> str:
    """A stored value as the person reads it in this form: the choice's label, the object's name."""
    if value is None or value == "" or value == []:
        return EMPTY_LABEL
    if isinstance(field, forms.ModelChoiceField):
        found = field.queryset.filter(pk=value).first()
        return str(found) if found is not None else str(value)
    if isinstance(field, forms.ChoiceField):
        if isinstance(value, bool):  # a yes/no choice stored as a boolean (the assessment's "enumerable")
            value = "yes" if value else "no"
        labels = {str(k): str(v) for k, v in field.choices}
        return labels.get(str(value), str(value))
    if isinstance(field, forms.BooleanField) or isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or EMPTY_LABEL
    return _plain(value)


def conflict_message(field: forms.Field | None, name: str, conflict: Conflict) -> str:
    label = (field.label if field is not None and field.label else pretty_name(name)).rstrip(":")
    return (f"{conflict.by or 'Someone'} changed {label} from {_label_value(field, conflict.base)} to "
            f"{_label_value(field, conflict.current)} since you opened this form; you entered "
            f"{_label_value(field, conflict.yours)}. Nothing was saved: save again to put yours over theirs.")


def _as_posted(field: forms.Field, value: Any) -> str | None:
    """A value as the field's widget posts it back (None: an unticked box posts nothing)."""
    if isinstance(field.widget, forms.CheckboxInput):
        return "on" if value else None
    shown = field.widget.format_value(field.prepare_value(value))
    return "" if shown is None else str(shown)


def place_conflict(form: forms.BaseForm, exc: EditConflict, current_initial: Mapping[str, Any] | None = None) -> str:
    """Put each conflict beside its field and give the new `base` to render, so saving again applies
    the person's values on top of the current version. What the person typed stays; the fields they
    left as they were show the current values (`current_initial`: the form's initial for the object
    as it is now), else saving again would put back what someone else changed."""
    if current_initial is not None and exc.refresh:
        data = form.data.copy()
        for name in exc.refresh:
            field = form.fields.get(name)
            if field is None or name not in current_initial:
                continue
            posted = _as_posted(field, current_initial[name])
            key = form.add_prefix(name)
            if posted is None:
                data.pop(key, None)
            else:
                data[key] = posted
        form.data = data
    for name, conflict in exc.conflicts.items():
        field = form.fields.get(name)
        form.add_error(name if field is not None else None, conflict_message(field, name, conflict))
    return encode_base(exc.current)


def with_etag(response: Any, version: str) -> Any:
    """Serve the object's version as a strong ETag (a write may send it back as If-Match)."""
    response["ETag"] = etag(version)
    return response


def if_match_parameter() -> Any:
    """The If-Match header as the OpenAPI schema documents it on writes that honour it."""
    from drf_spectacular.utils import OpenApiParameter

    return OpenApiParameter(
        "If-Match", str, OpenApiParameter.HEADER, required=False,
        description="The ETag of the object as you read it. If the object changed since, nothing is changed and "
                    "the answer is 412 with the current ETag. Without it the write is applied unchecked.")
