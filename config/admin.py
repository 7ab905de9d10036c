"""Admin pieces every app shares (Django only; config imports no app)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows only an app's actions write (their gates and history rows live there): admin shows and
    searches them, never adds, changes or deletes one."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
