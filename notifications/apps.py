from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Reminders and notifications"

    def ready(self):
        # Registers the tasks in every process (web too), so actions can queue them by name.
        from notifications import events, tasks  # noqa: F401

        # Bug-mail: incidents announce their events (compliance.signals); this app mails them.
        events.connect()
