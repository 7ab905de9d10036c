"""Query-parameter filters a list declares once (a django-filter FilterSet) and its page, API,
export and schema all read.

The fields parse query strings strictly, so a value the API would refuse is refused everywhere,
with one message per problem phrased to follow the parameter's name ("must be an integer, not
'acme'."): a page shows it beside the field, an export answers it as a 400, and FilterBackend
turns it into the API's 400 body naming the parameter (`'ca' must be an integer, not 'acme'.`).

Imports no app: a FilterSet lives beside the model it filters.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django import forms
from django_filters import filters
from django_filters.rest_framework import DjangoFilterBackend

from config.errors import DomainError

TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("0", "false", "no", "off")

# What every database column can hold: PostgreSQL's bigint and SQLite's INTEGER are both signed
# 64-bit, and a larger Python int is an error inside the driver (a 500), not an empty result.
DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1
NUL = "\x00"
NUL_MESSAGE = "must not contain a NUL byte (\\x00)."


def db_int(text: str) -> int | None:
    """The whole number `text` spells in ASCII digits, if a database column can hold it; else None.
    (str.isdigit() also accepts "²", which int() refuses, and a 30-digit id overflows the driver.)"""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= DB_INT_MAX else None


def query_problems(querydict) -> dict[str, list[str]]:
    """Query parameters no database may be asked about, as {name: [message]}: PostgreSQL refuses a
    NUL byte in any string (psycopg raises before the query is sent), so one in a name or a value is
    refused for every URL before a view can pass it on."""
    problems: dict[str, list[str]] = {}
    for name, values in querydict.lists():
        if NUL in name:
            problems[name.replace(NUL, "\\x00")] = [f"A parameter name {NUL_MESSAGE}"]
        elif any(NUL in value for value in values):
            problems[name] = [NUL_MESSAGE]
    return problems


class IntegerParamField(forms.Field):
    """An integer as `int()` reads it (no decimals, no separators), within what a database column
    holds (DB_INT_MIN..DB_INT_MAX unless narrower bounds are given); blank means no filter."""

    def __init__(self, *args: Any, min_value: int = DB_INT_MIN, max_value: int = DB_INT_MAX, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in (None, ""):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise forms.ValidationError(
                "must be an integer, not %(value)r.", code="invalid", params={"value": value}
            ) from None
        if not self.min_value <= number <= self.max_value:
            raise forms.ValidationError(
                "must be an integer between %(min)s and %(max)s.",
                code="out_of_range",
                params={"min": self.min_value, "max": self.max_value},
            )
        return number


class UTCDateTimeField(forms.DateTimeField):
    """A form's date and time, in UTC as the database compares it: an offset PostgreSQL refuses
    (beyond 15:59, e.g. -23:00) or an instant past year 9999 once in UTC is a field error, not a 500."""

    def to_python(self, value: Any):
        result = super().to_python(value)
        if result is None or result.tzinfo is None:
            return result
        try:
            return result.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("must fall between years 1 and 9999 in UTC.", code="out_of_range") from None


class BooleanParamField(forms.Field):
    """true/false, yes/no, on/off or 1/0 (any case); blank means no filter; anything else is refused
    (a checkbox's "on" is true, but "maybe" is not quietly taken for yes)."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        lowered = str(value).lower()
        if lowered in TRUE_VALUES:
            return True
        if lowered in FALSE_VALUES:
            return False
        raise forms.ValidationError("must be true or false, not %(value)r.", code="invalid", params={"value": value})


class QueryCheckbox(forms.CheckboxInput):
    """A checkbox that hands the raw query value to its field (Django's own reads "maybe" as checked)."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, check_test=lambda v: v is True or str(v).lower() in TRUE_VALUES)

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data


class IntegerParamFilter(filters.Filter):
    field_class = IntegerParamField


class BooleanParamFilter(filters.BooleanFilter):
    field_class = BooleanParamField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", QueryCheckbox)
        super().__init__(*args, **kwargs)


class ChoiceParamFilter(filters.ChoiceFilter):
    """One of fixed choices; a bad value is refused naming every allowed one."""

    def __init__(self, *args: Any, choices, **kwargs: Any) -> None:
        allowed = ", ".join(str(value) for value, _ in choices)
        kwargs.setdefault("error_messages", {"invalid_choice": f"must be one of {allowed}, not %(value)r."})
        super().__init__(*args, choices=choices, **kwargs)


def error_lines(errors) -> list[str]:
    """A bound filter form's errors as "'name' message" lines (blank values never get here)."""
    return [f"'{name}' {message}" for name, messages in errors.items() for message in messages]


def error_map(errors) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in errors.items()}


class FilterBackend(DjangoFilterBackend):
    """DRF side of a view's `filterset_class`: a bad value is the API's 400 naming the parameter."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise DomainError(" ".join(error_lines(filterset.errors)), errors=error_map(filterset.errors))
        return filterset.qs
