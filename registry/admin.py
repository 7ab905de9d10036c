"""Admin for the CA registry: read-mostly views of owners, certificates and the root store
(imports go through the management commands and the upload page, which keep links and history right)."""

from django.contrib import admin

from registry.models import CAOwner, CCADBRecord, CertdataImport, Certificate, RegistryEvent, RootStoreEntry

@admin.register(CAOwner)
class CAOwnerAdmin(admin.ModelAdmin):
    list_display = ["name", "ccadb_id", "country", "status"]
    list_filter = ["status"]
    search_fields = ["name", "ccadb_id"]


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["label", "kind", "owner", "not_before", "not_after", "sha256"]
    list_filter = ["kind"]
    list_select_related = ["owner"]
    search_fields = ["label", "subject_text", "sha256", "sha1", "serial_hex"]
    autocomplete_fields = ["owner"]
    exclude = ["der", "subject_der", "issuer_der", "serial_der", "spki_der"]
    readonly_fields = [
        f
        for f in (
            "sha256", "sha1", "md5", "spki_sha256", "cross_sign_key", "subject_key", "issuer_key",
            "subject_name_key", "issuer_name_key", "serial_hex", "subject_text", "issuer_text",
            "not_before", "not_after", "key_type", "key_size", "is_ca", "path_length", "ski", "aki",
            "kind", "source", "created_at",
        )
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # certificates come in through import_certificates or the upload page


@admin.register(RootStoreEntry)
class RootStoreEntryAdmin(admin.ModelAdmin):
    list_display = ["label", "trust_server", "trust_email", "server_distrust_after", "email_distrust_after"]
    list_filter = ["trust_server", "trust_email"]
    search_fields = ["label", "serial_hex"]
    exclude = ["issuer_der", "serial_der"]
    readonly_fields = ["certificate", "issuer_key", "serial_hex", "created_at"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Through the action, so the change is recorded and the export re-renders the entry's blocks.
        from registry.actions import root_store_entry_update

        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if changes:
            root_store_entry_update(actor=request.user, entry=obj, **changes)


@admin.register(CCADBRecord)
class CCADBRecordAdmin(admin.ModelAdmin):
    list_display = ["certificate_name", "owner", "record_type", "auditor", "sha256"]
    search_fields = ["certificate_name", "sha256", "auditor"]
    list_select_related = ["owner"]


@admin.register(CertdataImport)
class CertdataImportAdmin(admin.ModelAdmin):
    list_display = ["source", "created_at", "imported_by"]
    exclude = ["header", "trailer"]


@admin.register(RegistryEvent)
class RegistryEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "actor_name", "summary"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False
