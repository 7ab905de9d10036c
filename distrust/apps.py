from django.apps import AppConfig


class DistrustConfig(AppConfig):
    name = "distrust"

    def ready(self):
        from compliance import related
        from distrust.selectors import actions_for_incident

        # Incident pages list the distrust actions started from them, as far as the viewer may see.
        related.register("distrust_actions", actions_for_incident)
