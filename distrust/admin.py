"""Read-only admin for distrust data: changes go through the pages and distrust.actions (with their history rows)."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from distrust.models import DistrustAction, OneCRLEntry
from history.admin import SubjectHistoryMixin


@admin.register(DistrustAction)
class DistrustActionAdmin(SubjectHistoryMixin, ReadOnlyAdmin):
    list_display = ["title", "kind", "state", "is_embargoed", "created_at"]
    list_filter = ["state", "kind", "is_embargoed"]
    search_fields = ["title", "bug"]
    readonly_fields = ["history_rows"]

    # Read-only: the workflow's gates and history rows live in distrust.actions, and deleting would
    # skip them and take the steps, targets and artifacts with it.


@admin.register(OneCRLEntry)
class OneCRLEntryAdmin(ReadOnlyAdmin):
    list_display = ["name", "record_id", "enabled", "bug", "created", "action"]
    list_filter = ["enabled"]
    search_fields = ["name", "record_id", "bug"]

    # Read-only: entries come from onecrl_import and the implement step.
