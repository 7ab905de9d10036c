"""Deep pages at the cost of shallow ones: a bounded count and a deferred join (issue 17).

Decision. `?page=N` keeps working at every depth (links people saved, the API's `next`), but
 * the count is bounded: `SELECT COUNT(*) FROM (... LIMIT COUNT_CAP + 1)`, so a list of 100,000
   says "10,000+" (as GitHub and Bugzilla's "more than" do) and the count never scans more than
   COUNT_CAP + 1 rows; beyond the cap the last page is unknown and "Next" shows while a page is full;
 * a page beyond the first is a deferred join: the OFFSET walks only the sort key's index
   (`SELECT id ... ORDER BY ... LIMIT 51 OFFSET 49950`), then the 50 rows of the page are read with
   everything a row shows (select_related, the per-row count subqueries, prefetches) by primary key,
   so what is skipped is never joined or counted. Page 1,000 costs about what page 1 costs plus an
   index walk of 50,000 keys (a few ms on PostgreSQL).
Keyset (`?after=`) pagination was not needed for the lists' budgets; the page number stays the one
way to address a page. Queries, any page: the count, the keys, the rows (+ prefetches).
"""

from __future__ import annotations

import math

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def deferred_slice(qs, offset: int, limit: int) -> list:
    """qs[offset:offset + limit] read as keys first, then the rows by primary key (same order).

    Two queries (plus qs's prefetches) at every offset, the first page included, so a list runs the
    same queries whichever page it shows."""
    if limit <= 0:
        return []
    keys = list(qs.values_list("pk", flat=True)[offset : offset + limit])
    if not keys:
        return []
    rows = {row.pk: row for row in qs.order_by().filter(pk__in=keys)}
    return [rows[k] for k in keys if k in rows]


class BoundedPage(Page):
    more: bool = False

    def has_next(self) -> bool:
        if self.paginator.capped:
            return self.more
        return super().has_next()


class BoundedPaginator(Paginator):
    """A Paginator whose count stops at COUNT_CAP and whose pages are deferred joins (see above)."""

    cap = COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        qs = self.object_list
        if hasattr(qs, "values_list"):
            return qs.order_by()[: self.cap + 1].count()
        return len(qs)

    @property
    def capped(self) -> bool:
        """More rows than COUNT_CAP: `count` is the cap, shown as "10,000+"."""
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.capped else f"{self.count:,}"

    @property
    def num_pages_label(self) -> str:
        return f"{self.num_pages:,}+" if self.capped else f"{self.num_pages:,}"

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, math.ceil(max(1, self.count - self.orphans) / self.per_page))

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number  # past the cap: a page exists while it has rows (checked in page())

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        qs = self.object_list
        if not hasattr(qs, "values_list"):
            return super().page(number)
        limit = self.per_page + (1 if self.capped else 0)
        if not self.capped:
            top = min(bottom + self.per_page, self.count)
            if top + self.orphans >= self.count:
                top = self.count
            limit = max(top - bottom, 0)
        rows = deferred_slice(qs, bottom, limit)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = BoundedPage(rows[: self.per_page] if self.capped else rows, number, self)
        page.more = len(rows) > self.per_page
        return page

    def get_page(self, number):
        """As Django's: a bad number shows page 1, one past the end the last page (counted, or the cap's)."""
        try:
            return super().get_page(number)
        except EmptyPage:  # past the cap and past the rows
            return self.page(self.num_pages)
