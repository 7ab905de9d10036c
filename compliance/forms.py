"""Forms of the incident pages: they only parse input; the actions validate the domain rules."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from compliance.actions.incidents import DECISION_ACTIONS
from compliance.actions.relations import duplicate_target
from compliance.domain import reports
from compliance.domain import responses as resp
from compliance.models import Assessment, Comment, Incident
from config.filters import UTCDateTimeField
from registry.models import CAOwner

DT_HELP = "UTC, as YYYY-MM-DD HH:MM."


class IncidentCreateForm(forms.Form):
    ca_owner = forms.ModelChoiceField(label="CA owner", queryset=CAOwner.objects.all(),
                                      error_messages={"invalid_choice": "Choose a known CA owner."})
    title = forms.CharField(label="Title", max_length=350, help_text="Without the CA owner's name: it is added.")
    description = forms.CharField(label="Description", widget=forms.Textarea, help_text="Markdown.")
    source = forms.ChoiceField(label="Source", choices=Incident.Source.choices)
    became_aware_at = UTCDateTimeField(label="When the CA became aware", required=False, help_text=DT_HELP)
    security_sensitive = forms.BooleanField(
        label="Security-sensitive (visible only to staff, the CA's representatives, you, the assignee and the CC list)",
        required=False
    )
    whiteboard = forms.CharField(label="Whiteboard", required=False, help_text="E.g. [ca-compliance] [dv-misissuance]")

    def __init__(self, *args: Any, can_set_whiteboard: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_set_whiteboard:
            del self.fields["whiteboard"]


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 6}), help_text="Markdown.")
    kind = forms.ChoiceField(label="Kind", choices=[(Comment.Kind.COMMENT, "Comment"), (Comment.Kind.UPDATE, "Update")],
                             required=False)
    is_private = forms.BooleanField(label="Private (staff only)", required=False)
    needinfo = forms.ChoiceField(
        label="Ask for information (needinfo)", required=False,
        choices=[("", "No question"), ("ca", "Ask the CA"), ("user", "Ask a named person")],
    )
    needinfo_user = forms.CharField(label="Username to ask", required=False)

    def __init__(self, *args: Any, can_update: bool = False, can_private: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_update:
            del self.fields["kind"]
        if not can_private:
            del self.fields["is_private"]

    def clean(self):
        data = super().clean()
        if data.get("needinfo") == "user":
            name = (data.get("needinfo_user") or "").strip()
            user = User.objects.filter(username=name, is_active=True).first()
            if user is None:
                self.add_error("needinfo_user", f"No user named {name!r}.")
            data["asked_user"] = user
        if data.get("needinfo") and data.get("is_private"):
            self.add_error("is_private", "A question is public: the CA must see it.")
        return data


class AnswerForm(forms.Form):
    body = forms.CharField(label="Answer", widget=forms.Textarea(attrs={"rows": 4}), help_text="Markdown.")
    promised_date = forms.DateField(
        label="Full answer by (only for an acknowledgement)", required=False, help_text="YYYY-MM-DD",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class TriageForm(forms.Form):
    title = forms.CharField(label="Title", max_length=400)
    status = forms.ChoiceField(label="Status", choices=Incident.Status.choices)
    resolution = forms.ChoiceField(label="Resolution", choices=Incident.Resolution.choices, required=False)
    # Bugzilla's dupe_of: required with the resolution Duplicate; naming a bug alone resolves as its duplicate.
    dupe_of = forms.IntegerField(label="Duplicate of bug #", required=False, min_value=1, max_value=2**31 - 1,
                                 help_text="With the resolution Duplicate: the number of the bug this one duplicates.")
    whiteboard = forms.CharField(label="Whiteboard", required=False)
    next_update = forms.DateField(label="Next update", required=False, help_text="Written into the whiteboard.",
                                  widget=forms.DateInput(attrs={"type": "date"}))
    assignee = forms.ModelChoiceField(label="Assignee", queryset=User.objects.filter(is_active=True), required=False)
    security_sensitive = forms.BooleanField(label="Security-sensitive", required=False)
    source = forms.ChoiceField(label="Source", choices=Incident.Source.choices)
    became_aware_at = UTCDateTimeField(label="When the CA became aware", required=False, help_text=DT_HELP)
    severity = forms.ChoiceField(
        label="Severity", choices=Incident.Severity.choices, required=False,
        help_text="; ".join(f"{Incident.Severity(k).label}: {m}" for k, m in Incident.SEVERITY_MEANING.items()) + ".",
    )

    @classmethod
    def initial_for(cls, incident: Incident) -> dict[str, Any]:
        return {
            "title": incident.title, "status": incident.status, "resolution": incident.resolution,
            "whiteboard": incident.whiteboard, "next_update": incident.next_update,
            "assignee": incident.assignee_id, "security_sensitive": incident.security_sensitive,
            "source": incident.source, "became_aware_at": incident.became_aware_at, "severity": incident.severity,
            "dupe_of": getattr(duplicate_target(incident), "number", None),
        }


class RelationForm(forms.Form):
    kind = forms.ChoiceField(label="Relation", choices=[("depends_on", "Depends on"), ("blocks", "Blocks"),
                                                        ("duplicate_of", "Duplicate of"), ("see_also", "See also")])
    other = forms.IntegerField(label="Bug number", min_value=1)


ANSWER_CHOICES = [("", "—"), ("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")]
ENUMERABLE_CHOICES = [("", "Not known yet"), ("yes", "Yes"), ("no", "No")]


class AssessmentForm(forms.Form):
    cert_type = forms.ChoiceField(label="What was mis-issued", choices=Assessment.CertType.choices, required=False)
    count = forms.IntegerField(label="How many", min_value=0, required=False)
    enumerable = forms.ChoiceField(label="Can the CA enumerate them?", choices=ENUMERABLE_CHOICES, required=False)
    audit_problem = forms.BooleanField(
        label="Audit documentation problem (missing, or numerous / serious qualifications)", required=False
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for c in resp.CONSIDERATIONS:
            self.fields[f"{c.key}__answer"] = forms.ChoiceField(label=c.text, choices=ANSWER_CHOICES, required=False)
            self.fields[f"{c.key}__note"] = forms.CharField(label=f"Note: {c.text}", required=False)

    def consideration_rows(self):
        groups = []
        for key, title in resp.CONSIDERATION_GROUPS.items():
            rows = [(c, self[f"{c.key}__answer"], self[f"{c.key}__note"]) for c in resp.CONSIDERATIONS if c.group == key]
            groups.append((title, rows))
        return groups

    def action_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "considerations": {c.key: {"answer": d.get(f"{c.key}__answer") or "", "note": d.get(f"{c.key}__note") or ""}
                               for c in resp.CONSIDERATIONS},
            "cert_type": d.get("cert_type") or "",
            "count": d.get("count"),
            "enumerable": {"yes": True, "no": False}.get(d.get("enumerable") or ""),
            "audit_problem": bool(d.get("audit_problem")),
            "notes": d.get("notes") or "",
        }

    @classmethod
    def initial_for(cls, assessment: Assessment | None) -> dict[str, Any]:
        if assessment is None:
            return {}
        initial: dict[str, Any] = {
            "cert_type": assessment.cert_type, "count": assessment.count, "audit_problem": assessment.audit_problem,
            "enumerable": {True: "yes", False: "no"}.get(assessment.enumerable, ""), "notes": assessment.notes,
        }
        for key, value in (assessment.considerations or {}).items():
            initial[f"{key}__answer"] = value.get("answer", "")
            initial[f"{key}__note"] = value.get("note", "")
        return initial


class CCForm(forms.Form):
    """Add people to the CC list by login, or tick people to take off it. Unknown logins are a form
    error naming them; what was typed stays in the box."""

    add = forms.CharField(label="Add to CC", required=False, max_length=2000,
                          help_text="Logins, separated by spaces or commas. They will see this incident "
                                    "while it is security-sensitive.")
    remove = forms.ModelMultipleChoiceField(label="Remove from CC", queryset=User.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, current: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = list(current)
        self.fields["remove"].queryset = User.objects.filter(pk__in=[u.pk for u in current]).order_by("username")
        self.fields["remove"].label_from_instance = lambda u: u.username
        if not current:
            del self.fields["remove"]

    def clean_add(self) -> list[User]:
        logins = list(dict.fromkeys(name for name in self.cleaned_data["add"].replace(",", " ").split() if name))
        found = {u.username: u for u in User.objects.filter(username__in=logins, is_active=True)}
        unknown = [name for name in logins if name not in found]
        if unknown:
            raise forms.ValidationError(f"No active user with the login {', '.join(unknown)}.")
        return [found[name] for name in logins]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(label="Decision", choices=list(DECISION_ACTIONS.items()))
    note = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    # Staff-only unless "public" is chosen: a form posted without the field records a staff-only decision.
    is_private = forms.TypedChoiceField(
        label="Who may read it", widget=forms.RadioSelect, required=False, initial="staff", empty_value=True,
        choices=[("staff", "Staff only (it can be published later)"),
                 ("public", "Public: on the incident page, its history and /rest/")],
        coerce=lambda value: value != "public",
    )


# ------------------------------------------------------------------- report forms
# The report form is built from compliance.domain.reports.TEMPLATES: one input per scalar field,
# and for tables one row of inputs per row (`<table>-<i>-<column>`), plus a "N/A" box.

MAX_TABLE_ROWS = 500


def report_data_from_post(kind: str, post: Any) -> dict[str, Any]:
    """The submitted report as the `reports.validate` mapping (blank table rows dropped)."""
    template = reports.TEMPLATES[reports.ReportKind(kind)]
    data: dict[str, Any] = {}
    for fdef in template.fields():
        if fdef.type is not reports.FieldType.TABLE:
            data[fdef.key] = post.get(fdef.key, "")
            continue
        if post.get(f"{fdef.key}-na"):
            data[fdef.key] = reports.NA
            continue
        try:
            count = min(int(post.get(f"{fdef.key}-rows", "0")), MAX_TABLE_ROWS)
        except ValueError:
            count = 0
        rows = []
        for index in range(count):
            row = {c.key: post.get(f"{fdef.key}-{index}-{c.key}", "") for c in fdef.columns}
            if any(str(v).strip() for v in row.values()):
                rows.append(row)
        data[fdef.key] = rows
    return data


def report_layout(kind: str, data: dict[str, Any], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Sections -> fields -> (for tables) rows, with values and errors, for the template."""
    template = reports.TEMPLATES[reports.ReportKind(kind)]
    sections = []
    for section in template.sections:
        fields = []
        for fdef in section.fields:
            value = data.get(fdef.key, "")
            own = [f"{m}" for m in errors.get(fdef.key, [])]
            nested = [
                f"{_error_label(fdef, key)}: {m}"
                for key, msgs in errors.items()
                if key.startswith((f"{fdef.key}[", f"{fdef.key}.")) for m in msgs
            ]
            entry: dict[str, Any] = {"def": fdef, "errors": own + nested, "is_table": fdef.type is reports.FieldType.TABLE,
                                     "multiline": fdef.type in (reports.FieldType.TEXT, reports.FieldType.APPENDIX)}
            if entry["is_table"]:
                rows = value if isinstance(value, list) else []
                entry["na"] = value == reports.NA
                blank = {c.key: "" for c in fdef.columns}
                padded = list(rows) + [blank] * max(1, 2 - len(rows) + (1 if rows else 0))
                entry["rows"] = [
                    [{"def": c, "name": f"{fdef.key}-{i}-{c.key}", "value": r.get(c.key, "") if isinstance(r, dict) else ""}
                     for c in fdef.columns]
                    for i, r in enumerate(padded)
                ]
                entry["row_count"] = len(padded)
            else:
                entry["value"] = "" if value is None else value
            fields.append(entry)
        sections.append({"def": section, "fields": fields})
    return sections


def _error_label(fdef: reports.FieldDef, key: str) -> str:
    # "action_items[2].status" -> "Row 2, Status"; "appendix.row 3" -> "CSV row 3"
    rest = key[len(fdef.key):]
    if rest.startswith("["):
        number, _, column = rest[1:].partition("]")
        column = column.lstrip(".")
        label = next((c.label for c in fdef.columns if c.key == column), column)
        return f"Row {number}" + (f", {label}" if label else "")
    return "CSV " + rest.lstrip(".")
