"""Issue 16 (helper cc): one way to follow an incident, saved searches, the import's owner aliases.

1. Incident.watchers (the page's Watch button) joins the CC list (Incident.cc) and is removed: each
   watcher who may see the incident now (it is public, or they are staff, a representative of its CA,
   its reporter or assignee) goes on the CC list; a watcher who may not see it is dropped (they were
   mailed nothing of it either), so moving them cannot give anyone sight of a security-sensitive
   incident. notifications 0003_cc does the same for the settings page's incident watches.
2. SavedSearch, OwnerAlias, UnmatchedOwnerPrefix.
3. OwnerAlias is seeded with the 26 aliases compliance/domain/owner_names.py held in code (a copy:
   a migration must not change when that module does).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

# compliance/domain/owner_names.ALIASES as of this migration: brand name in bug titles -> CCADB name.
ALIASES = {
    "Let's Encrypt": "Internet Security Research Group",
    "IdenTrust": "IdenTrust Services, LLC",
    "Camerfirma": "AC Camerfirma, S.A.",
    "Asseco DS": "Asseco Data Systems S.A. (previously Unizeto Certum)",
    "Certum": "Asseco Data Systems S.A. (previously Unizeto Certum)",
    "Microsoft PKI Services": "Microsoft Corporation",
    "Microsoft DSRE PKI": "Microsoft Corporation",
    "Telia": "Telia Company",
    "Firmaprofesional": "Autoridad de Certificacion Firmaprofesional",
    "SECOM": "SECOM Trust Systems Co., Ltd.",
    "SHECA": "Shanghai Electronic Certification Authority Co., Ltd.",
    "Certinomis": "Docaposte Certinomis SAS",
    "WISeKey": "OISTE",
    "Comodo": "Sectigo",
    "Telekom Security": "Deutsche Telekom Security GmbH",
    "T-Systems": "Deutsche Telekom Security GmbH",
    "SecureTrust": "Viking Cloud, Inc.",
    "Trustwave": "Viking Cloud, Inc.",
    "VikingCloud": "Viking Cloud, Inc.",
    "eMudhra emSign PKI Services": "eMudhra Technologies Limited",
    "eMudhra": "eMudhra Technologies Limited",
    "emSign PKI Services": "eMudhra Technologies Limited",
    "TrustCor": "TrustCor Systems",
    "TunTrust": "Agence Nationale de Certification Electronique",
    "Atos": "Eviden",
    "ANF": "Autoridad de Certificación (ANF AC)",
}


def may_see(apps, pairs):
    """Of (incident_id, user_id) pairs, those whose user may see the incident today (accounts.permissions'
    rule, restated on historical models: a migration cannot import the live rule's callers)."""
    Incident = apps.get_model("compliance", "Incident")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    pairs = set(pairs)
    if not pairs:
        return []
    incidents = {i["pk"]: i for i in Incident.objects.filter(pk__in={i for i, _ in pairs}).values(
        "pk", "security_sensitive", "ca_owner_id", "reporter_id", "assignee_id")}
    users = {u["pk"]: u for u in User.objects.filter(pk__in={u for _, u in pairs}).values("pk", "is_staff", "is_active")}
    owners = {}
    for user_id, owner_id in User.represented_owners.through.objects.filter(
            user_id__in=users).values_list("user_id", "caowner_id"):
        owners.setdefault(user_id, set()).add(owner_id)
    kept = []
    for incident_id, user_id in sorted(pairs):
        i, u = incidents.get(incident_id), users.get(user_id)
        if i is None or u is None or not u["is_active"]:
            continue
        if (not i["security_sensitive"] or u["is_staff"] or i["ca_owner_id"] in owners.get(user_id, ())
                or user_id in (i["reporter_id"], i["assignee_id"])):
            kept.append((incident_id, user_id))
    return kept


def watchers_to_cc(apps, schema_editor):
    Incident = apps.get_model("compliance", "Incident")
    watchers, cc = Incident.watchers.through, Incident.cc.through
    pairs = watchers.objects.values_list("incident_id", "user_id")
    have = set(cc.objects.values_list("incident_id", "user_id"))
    cc.objects.bulk_create([cc(incident_id=i, user_id=u) for i, u in may_see(apps, pairs) if (i, u) not in have],
                           batch_size=1000)


def cc_to_watchers(apps, schema_editor):
    """Backwards: the CC list is left as it is (who joined it by the Watch button is not known)."""


def seed_aliases(apps, schema_editor):
    OwnerAlias = apps.get_model("compliance", "OwnerAlias")
    now = timezone.now()
    OwnerAlias.objects.bulk_create([OwnerAlias(alias=a, owner_name=o, created_at=now, updated_at=now)
                                    for a, o in ALIASES.items()], ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0005_attachments_att"),
        ("accounts", "0002_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(watchers_to_cc, cc_to_watchers),
        migrations.RemoveField(model_name="incident", name="watchers"),
        migrations.CreateModel(
            name="SavedSearch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=80)),
                ("query", models.CharField(blank=True, help_text="The list's query string, without page.", max_length=2000)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="saved_searches",
                                            to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["name", "pk"]},
        ),
        migrations.AddConstraint(
            model_name="savedsearch",
            constraint=models.UniqueConstraint(fields=("owner", "name"), name="unique_saved_search_name"),
        ),
        migrations.CreateModel(
            name="OwnerAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("alias", models.CharField(max_length=200, unique=True)),
                ("owner_name", models.CharField(max_length=300)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
            ],
            options={"ordering": ["alias"]},
        ),
        migrations.CreateModel(
            name="UnmatchedOwnerPrefix",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("prefix", models.CharField(max_length=200, unique=True)),
                ("bugs", models.PositiveIntegerField()),
                ("example_number", models.PositiveIntegerField(help_text="One bug with this prefix.")),
                ("imported_at", models.DateTimeField()),
            ],
            options={"ordering": ["-bugs", "prefix"]},
        ),
        migrations.RunPython(seed_aliases, migrations.RunPython.noop),
    ]
