from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self):
        from compliance.bugzilla.views import refused, unknown_resource
        from config.errors import register_not_found
        from config.middleware import register_error_shape, register_upload_path

        # A URL under /rest/ that matches nothing answers in Bugzilla's error shape (code 32614).
        register_not_found("/rest/", unknown_resource)
        # So do the refusals every request passes (NUL bytes, body size) under /rest/.
        register_error_shape("/rest/", refused)
        # Bugzilla clients send attachments base64-encoded in JSON: an upload's body limit, not a form's.
        register_upload_path(r"^/rest/bug/[^/]+/attachment/?$")

        # Certificate pages list the incidents naming the certificate, as far as the viewer may see.
        from compliance.certificate_page import incidents
        from registry import related

        related.register("incidents", incidents)

        from compliance.search import index

        # Every write of an incident, comment or report version refreshes its search document.
        index.connect()
