from django.utils.functional import SimpleLazyObject


def unread(request):
    """The navigation's "Notifications (N)": one COUNT, run only when a page shows it (signed-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        from notifications.selectors import unread_count

        return unread_count(user=user)

    return {"notifications_unread": SimpleLazyObject(count)}
