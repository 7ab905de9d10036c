from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts import actions
from accounts.models import ApiKey, User
from config.admin import ReadOnlyAdmin
from history.admin import SubjectHistoryMixin


@admin.register(User)
class RootwatchUserAdmin(SubjectHistoryMixin, UserAdmin):
    """Role grants (staff status, CA representation) go through accounts.actions, so each writes its
    history row; the other fields are saved as Django's UserAdmin saves them."""

    fieldsets = UserAdmin.fieldsets + (
        ("CA representation", {"fields": ("represented_owners",)}),
        ("History", {"fields": ("history_rows",)}),
    )
    filter_horizontal = ("groups", "user_permissions", "represented_owners")
    readonly_fields = ("history_rows",)

    def save_model(self, request, obj, form, change):
        wanted = obj.is_staff
        # The form has already set is_staff on obj: save the stored value, then change it through the action.
        obj.is_staff = User.objects.filter(pk=obj.pk).values_list("is_staff", flat=True).first() or False
        super().save_model(request, obj, form, change)
        actions.user_set_staff(actor=request.user, user=obj, is_staff=wanted)

    def save_related(self, request, form, formsets, change):
        wanted = form.cleaned_data.pop("represented_owners", None)
        super().save_related(request, form, formsets, change)  # groups and permissions; never the owners
        if wanted is not None:
            actions.user_set_represented_owners(actor=request.user, user=form.instance, owners=wanted)


@admin.register(ApiKey)
class ApiKeyAdmin(SubjectHistoryMixin, ReadOnlyAdmin):
    """Keys are made and revoked by their users (accounts.api_keys); admin only shows them."""

    list_display = ("name", "user", "prefix", "read_only", "created_at", "last_used_at", "revoked_at")
    list_filter = ("read_only",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("key_hash",)
    readonly_fields = ("history_rows",)
