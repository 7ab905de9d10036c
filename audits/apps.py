from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"

    def ready(self):
        # Certificate pages list the audit statements naming the certificate, as far as the viewer may see.
        from audits.certificate_page import audit_statements
        from registry import related

        related.register("audit_statements", audit_statements)
