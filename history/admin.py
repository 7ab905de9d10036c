from django.contrib import admin
from django.utils.html import format_html, format_html_join

from config.admin import ReadOnlyAdmin
from history.models import Event
from history.selectors import for_subject


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """History is written only by the apps' actions: admin shows and searches it, never changes or deletes it."""

    list_display = ("at", "actor_name", "action_label", "subject_type", "subject_id", "field", "staff_only")
    list_filter = ("subject_type", "action", "staff_only")
    search_fields = ("actor_name", "action", "summary", "field")
    date_hierarchy = "at"


class SubjectHistoryMixin:
    """For the ModelAdmin of a model whose changes are recorded: its history rows on the change page.
    Add "history_rows" to readonly_fields (and to fields or fieldsets when those are set)."""

    @admin.display(description="History")
    def history_rows(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        rows = format_html_join(
            "",
            "<li>{} · {} · {}{}</li>",
            (
                (e.at.strftime("%Y-%m-%d %H:%M"), e.actor_name, e.action_label, _what(e))
                for e in for_subject(obj)
            ),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "None yet."


def _what(e: Event) -> str:
    if e.field:
        return f": {e.field} {e.old} → {e.new}"
    return f": {e.summary}" if e.summary else ""
