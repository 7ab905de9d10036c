from django.apps import AppConfig


class DistrustConfig(AppConfig):
    name = "distrust"

    def ready(self):
        from compliance import related
        from distrust.selectors import actions_for_incident

        # Incident pages list the distrust actions started from them, as far as the viewer may see.
        related.register("distrust_actions", actions_for_incident)
        # Certificate pages say the certificate's OneCRL status and the distrust actions naming it.
        from distrust import certificate_page
        from registry import related as certificate_related

        certificate_related.register("onecrl", certificate_page.onecrl_status)
        certificate_related.register("distrust_actions", certificate_page.distrust_actions)
