"""Read-only admin: notifications, preferences, watches and sweep runs are written by
notifications.actions (the outbox claims rows by compare-and-set; an edit here would race it)."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from notifications.models import Notification, NotificationPreference, SweepRun, Watch


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "recipient", "email", "due_date", "delivery", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind", "delivery"]
    search_fields = ["title", "email", "recipient__username"]
    raw_id_fields = ["recipient", "sweep_run"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "delivery", "updated_at"]


@admin.register(Watch)
class WatchAdmin(ReadOnlyAdmin):
    list_display = ["user", "ca_owner", "created_at"]
    raw_id_fields = ["user"]


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ["job", "started_at", "finished_at", "found", "created", "sent"]
    list_filter = ["job"]
