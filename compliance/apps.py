from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self):
        from compliance.bugzilla.views import unknown_resource
        from config.errors import register_not_found

        # A URL under /rest/ that matches nothing answers in Bugzilla's error shape (code 32614).
        register_not_found("/rest/", unknown_resource)
