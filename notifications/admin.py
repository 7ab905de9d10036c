from django.contrib import admin

from notifications.models import Notification, NotificationPreference, SweepRun, Watch


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "recipient", "email", "due_date", "delivery", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind", "delivery"]
    search_fields = ["title", "email", "recipient__username"]
    raw_id_fields = ["recipient", "sweep_run"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "delivery", "updated_at"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["user", "ca_owner", "incident", "created_at"]
    raw_id_fields = ["user", "incident"]


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ["job", "started_at", "finished_at", "found", "created", "sent"]
    list_filter = ["job"]
