from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Reminders and notifications"

    def ready(self):
        # Registers the tasks in every process (web too), so actions can queue them by name.
        from notifications import tasks  # noqa: F401
