"""Read-mostly admin for distrust data: changes go through the pages and distrust.actions."""

from django.contrib import admin

from distrust.models import DistrustAction, DistrustEvent, OneCRLEntry


class EventInline(admin.TabularInline):
    model = DistrustEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor_name", "kind", "step", "old_state", "new_state", "reason"]
    readonly_fields = fields


@admin.register(DistrustAction)
class DistrustActionAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "state", "is_embargoed", "created_at"]
    list_filter = ["state", "kind", "is_embargoed"]
    search_fields = ["title", "bug"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False  # the workflow's gates and events live in distrust.actions

    def has_add_permission(self, request):
        return False


@admin.register(OneCRLEntry)
class OneCRLEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "record_id", "enabled", "bug", "created", "action"]
    list_filter = ["enabled"]
    search_fields = ["name", "record_id", "bug"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
