"""Read-only admin for distrust data: changes go through the pages and distrust.actions (with their history rows)."""

from django.contrib import admin

from distrust.models import DistrustAction, OneCRLEntry
from history.admin import SubjectHistoryMixin


@admin.register(DistrustAction)
class DistrustActionAdmin(SubjectHistoryMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "state", "is_embargoed", "created_at"]
    list_filter = ["state", "kind", "is_embargoed"]
    search_fields = ["title", "bug"]
    readonly_fields = ["history_rows"]

    def has_change_permission(self, request, obj=None):
        return False  # the workflow's gates and history rows live in distrust.actions

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting would skip distrust.actions and take the steps, targets and artifacts with it


@admin.register(OneCRLEntry)
class OneCRLEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "record_id", "enabled", "bug", "created", "action"]
    list_filter = ["enabled"]
    search_fields = ["name", "record_id", "bug"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # entries come from onecrl_import and the implement step
