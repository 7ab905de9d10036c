"""The incident list's optional columns, chosen like Bugzilla's column chooser.

The choice travels in the query string as Bugzilla's `columnlist` (comma-separated, or repeated:
`columnlist=owner,assignee`), so a link, a saved search and the browser's history keep it, and
anonymous readers choose too; without it the list shows DEFAULT. Every column reads what the list
query already fetches (select_related ca_owner and assignee, created_at, updated_at): the list runs
the same queries whichever columns are shown (tests/incidents/test_list_columns_filters.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PARAM = "columnlist"
COLUMNS: dict[str, str] = {
    "owner": "CA owner",
    "assignee": "Assignee",
    "opened": "Opened",
    "changed": "Changed",
}
DEFAULT: tuple[str, ...] = ("owner", "changed")


def chosen(params: Mapping[str, Any]) -> tuple[list[str], str]:
    """(the columns to show in COLUMNS' order, an error message or ""). An unknown name is named
    in the error and left out; the known ones still apply."""
    if PARAM not in params:
        return list(DEFAULT), ""
    values = params.getlist(PARAM) if hasattr(params, "getlist") else [params[PARAM]]
    names = {n.strip() for v in values for n in str(v).split(",") if n.strip()}
    unknown = sorted(names - set(COLUMNS))
    error = (f"{PARAM}: no column named {', '.join(repr(u) for u in unknown)}; choose from "
             f"{', '.join(COLUMNS)}." if unknown else "")
    return [key for key in COLUMNS if key in names], error


def choices(shown: list[str]) -> list[tuple[str, str, bool]]:
    """(key, label, ticked) for the chooser's checkboxes."""
    return [(key, label, key in shown) for key, label in COLUMNS.items()]
