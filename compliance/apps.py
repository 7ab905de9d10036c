from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self):
        from compliance.bugzilla.views import refused, unknown_resource
        from config.errors import register_not_found
        from config.middleware import register_error_shape

        # A URL under /rest/ that matches nothing answers in Bugzilla's error shape (code 32614).
        register_not_found("/rest/", unknown_resource)
        # So do the refusals every request passes (NUL bytes, body size) under /rest/.
        register_error_shape("/rest/", refused)
