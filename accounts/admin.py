from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class RootwatchUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("CA representation", {"fields": ("represented_owners",)}),)
    filter_horizontal = ("groups", "user_permissions", "represented_owners")
