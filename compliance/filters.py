"""The incident list's filter, declared once: the list page's form, the API's query parameters
and their OpenAPI description, the CSV export and the Atom feeds all read IncidentFilter.

It only narrows the queryset it is given, which is always the incidents the user may see
(compliance.selectors.incident_filter, or IncidentList.get_queryset in the API): a filter value
can never show an incident its reader may not see.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator

from accounts import permissions as perm
from compliance import search
from compliance.domain.whiteboard import KNOWN_TAGS
from compliance.models import Incident
from config.filters import BooleanParamFilter, ChoiceParamFilter, IntegerParamFilter
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


class DateParamField(forms.DateField):
    """A day as YYYY-MM-DD; anything else is refused with the value and the format (no silent ignore)."""

    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "must be a date as YYYY-MM-DD, not %(value)r."}

    def to_python(self, value: Any):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value}) from None


class DateParamFilter(django_filters.DateFilter):
    field_class = DateParamField


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="filter_q", help_text="Words, \"phrases\" or -exclusions in the title, whiteboard, comments and reports; a bug number; "
                  "Bugzilla quicksearch prefixes (ALL, OPEN, product:, component:, whiteboard:, status:, assignee:, reporter:).",
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
    # Bugzilla's assigned_to / reporter (a login) and its creation and change date ranges (days, UTC).
    assignee = django_filters.CharFilter(label="Assignee", method="filter_person", help_text="The assignee's login.")
    reporter = django_filters.CharFilter(label="Reporter", method="filter_person", help_text="The reporter's login.")
    opened_from = DateParamFilter(label="Opened from", method="filter_day", help_text="Filed on or after (YYYY-MM-DD).")
    opened_to = DateParamFilter(label="Opened to", method="filter_day", help_text="Filed on or before (YYYY-MM-DD).")
    changed_from = DateParamFilter(label="Changed from", method="filter_day",
                                   help_text="Last changed on or after (YYYY-MM-DD).")
    changed_to = DateParamFilter(label="Changed to", method="filter_day",
                                 help_text="Last changed on or before (YYYY-MM-DD).")
    security_sensitive = BooleanParamFilter(
        label="Security-sensitive", method="filter_security_sensitive",
        help_text="Staff and CA representatives only; ignored for others.",
        widget=forms.Select(choices=[("", "Either"), ("yes", "Only"), ("no", "Exclude")]),
    )
    severity = ChoiceParamFilter(
        label="Severity", method="filter_severity", empty_label="Any",
        choices=[*((k, v) for k, v in Incident.Severity.choices if k), ("none", "Not set")],
        help_text="S1..S4 (set by staff at triage), or none.",
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
        sort = self.form.cleaned_data.get("sort")
        if not sort and "search_rank" in queryset.query.annotations:
            return queryset.order_by(F("search_rank").desc(nulls_last=True), "-number")  # best match first
        return queryset.order_by(*SORTS[sort or DEFAULT_SORT])

    def filter_q(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        # Full text (compliance.search): words, "phrases", -exclusions, bug numbers, Bugzilla's
        # ALL/OPEN prefixes and field:value prefixes; the comments searched are those the user may read.
        return search.search(queryset, value, user=self.user)

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

    def filter_severity(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return queryset.filter(severity="" if value == "none" else value)

    def filter_sort(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return queryset

    def filter_person(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        login = value.strip()
        return queryset.filter(**{f"{name}__username__iexact": login}) if login else queryset

    def filter_day(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        field = "created_at" if name.startswith("opened") else "updated_at"
        start = datetime.combine(value, time.min, tzinfo=UTC)
        if name.endswith("_from"):
            return queryset.filter(**{f"{field}__gte": start})
        return queryset.filter(**{f"{field}__lt": start + timedelta(days=1)})

    def is_valid(self) -> bool:
        """Also refuses a range whose end comes before its start, beside the end's field."""
        valid = super().is_valid()
        if valid:
            data = self.form.cleaned_data
            for start, end in (("opened_from", "opened_to"), ("changed_from", "changed_to")):
                if data.get(start) and data.get(end) and data[end] < data[start]:
                    self.form.add_error(end, f"must not be before {start} ({data[start]:%Y-%m-%d}).")
                    valid = False
        return valid
