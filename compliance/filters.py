"""The incident list's filter, declared once: the list page's form, the API's query parameters
and their OpenAPI description, the CSV export and the Atom feeds all read IncidentFilter.

It only narrows the queryset it is given, which is always the incidents the user may see
(compliance.selectors.incident_filter, or IncidentList.get_queryset in the API): a filter value
can never show an incident its reader may not see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator

from accounts import permissions as perm
from compliance.domain.whiteboard import KNOWN_TAGS
from compliance.models import Incident
from config.filters import BooleanParamFilter, ChoiceParamFilter, IntegerParamFilter, db_int
from registry.models import CAOwner

STATUS_CHOICES = [("open", "Open"), ("closed", "Closed"), *Incident.Status.choices]

SORTS = {
    "number": ("number",),
    "-number": ("-number",),
    "updated": ("updated_at", "number"),
    "-updated": ("-updated_at", "-number"),
    "due": (F("next_due_at").asc(nulls_last=True), "-number"),
}
DEFAULT_SORT = "-number"
SORT_CHOICES = [("-number", "Newest"), ("number", "Oldest"), ("-updated", "Recently changed"),
                ("updated", "Least recently changed"), ("due", "Next deadline")]


class _OwnerChoices(BaseChoiceIterator):
    """The CA owner select's options, read in one query when a page renders it (the API and the
    export never do). Every copy starts empty, so no form shows another request's owners."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, str]] | None = None

    def __iter__(self):
        if self._rows is None:
            self._rows = [("", "All"), *((owner.pk, str(owner)) for owner in CAOwner.objects.all())]
        yield from self._rows

    def __copy__(self) -> _OwnerChoices:
        return _OwnerChoices()

    def __deepcopy__(self, memo) -> _OwnerChoices:
        return _OwnerChoices()


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="filter_q", help_text="Text in the title or whiteboard, or a bug number.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    ca = IntegerParamFilter(label="CA owner", method="filter_ca", help_text="CA owner id.",
                            widget=forms.Select(choices=_OwnerChoices()))
    status = ChoiceParamFilter(label="Status", method="filter_status", choices=STATUS_CHOICES, empty_label="All",
                               help_text="open, closed, or a Bugzilla status.")
    tag = ChoiceParamFilter(label="Tag", method="filter_tag", choices=[(t, t) for t in KNOWN_TAGS], empty_label="Any",
                            help_text="A known whiteboard tag.")
    overdue = BooleanParamFilter(label="Overdue", method="filter_overdue",
                                 help_text="Only open incidents with a deadline past.")
    open_questions = BooleanParamFilter(label="Open questions", method="filter_open_questions",
                                        help_text="Only incidents with an unanswered question.")
    security_sensitive = BooleanParamFilter(
        label="Security-sensitive", method="filter_security_sensitive",
        help_text="Staff and CA representatives only; ignored for others.",
        widget=forms.Select(choices=[("", "Either"), ("yes", "Only"), ("no", "Exclude")]),
    )
    # Ordering is applied in filter_queryset, so the default order holds when `sort` is absent.
    sort = ChoiceParamFilter(label="Sort", method="filter_sort", choices=SORT_CHOICES, empty_label=None,
                             help_text=f"Default {DEFAULT_SORT} (newest first).")

    class Meta:
        model = Incident
        fields: list[str] = []

    def __init__(self, data=None, queryset: QuerySet[Incident] | None = None, *, request=None, prefix=None,
                 user: Any = None, now: datetime | None = None) -> None:
        if queryset is None:
            # django-filter would start from every incident: the caller must pass what the user may see.
            raise TypeError("IncidentFilter needs the queryset of incidents its user may see.")
        # Always bound (an empty query string too), so the default order applies.
        super().__init__(data if data is not None else {}, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None) or AnonymousUser()
        self.now = now or timezone.now()
        if not perm.can_filter_security_sensitive(self.user):
            # Not offered on the page, not read from the query: the visibility filter already decides.
            del self.filters["security_sensitive"]

    def get_form_class(self):
        # help_text describes each parameter in the API schema; on the page the labels say enough.
        for filter_ in self.filters.values():
            filter_.field.help_text = ""
        return super().get_form_class()

    def filter_queryset(self, queryset: QuerySet[Incident]) -> QuerySet[Incident]:
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*SORTS[self.form.cleaned_data.get("sort") or DEFAULT_SORT])

    def filter_q(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        text = value.strip()
        if not text:
            return queryset
        number = db_int(text)
        number = -1 if number is None else number
        return queryset.filter(Q(title__icontains=text) | Q(whiteboard__icontains=text) | Q(number=number))

    def filter_ca(self, queryset: QuerySet[Incident], name: str, value: int) -> QuerySet[Incident]:
        return queryset.filter(ca_owner_id=value) if value else queryset

    def filter_status(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        if value == "open":
            return queryset.open()
        if value == "closed":
            return queryset.filter(status=Incident.Status.RESOLVED)
        return queryset.filter(status=value)

    def filter_tag(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return queryset.tagged(value)

    def filter_overdue(self, queryset: QuerySet[Incident], name: str, value: bool) -> QuerySet[Incident]:
        return queryset.overdue(self.now) if value else queryset

    def filter_open_questions(self, queryset: QuerySet[Incident], name: str, value: bool) -> QuerySet[Incident]:
        return queryset.with_open_questions() if value else queryset

    def filter_security_sensitive(self, queryset: QuerySet[Incident], name: str, value: bool) -> QuerySet[Incident]:
        return queryset.filter(security_sensitive=value)

    def filter_sort(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return queryset
