"""Read-only admin: writes belong to audits.actions (they record history rows), so the admin shows and searches."""

from django.contrib import admin

from audits.models import (
    Auditor,
    AuditorQualification,
    AuditStatement,
    StatementCertificate,
    StatementCriterion,
    StatementFinding,
)
from config.admin import ReadOnlyAdmin
from history.admin import SubjectHistoryMixin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class QualificationInline(ReadOnlyInline):
    model = AuditorQualification


class CriterionInline(ReadOnlyInline):
    model = StatementCriterion


class FingerprintInline(ReadOnlyInline):
    model = StatementCertificate
    raw_id_fields = ["certificate"]


class FindingInline(ReadOnlyInline):
    model = StatementFinding
    raw_id_fields = ["incident"]


@admin.register(Auditor)
class AuditorAdmin(SubjectHistoryMixin, ReadOnlyAdmin):
    readonly_fields = ["history_rows"]
    list_display = ["name", "location", "approval"]
    list_filter = ["approval"]
    search_fields = ["name"]
    inlines = [QualificationInline]


@admin.register(AuditStatement)
class AuditStatementAdmin(SubjectHistoryMixin, ReadOnlyAdmin):
    readonly_fields = ["history_rows"]
    list_display = ["pk", "ca_owner", "auditor", "period_start", "period_end", "statement_date", "source",
                    "verification"]
    list_filter = ["verification", "source", "kind"]
    search_fields = ["ca_owner__name", "auditor__name", "url"]
    list_select_related = ["ca_owner", "auditor"]
    inlines = [CriterionInline, FingerprintInline, FindingInline]

