"""Issue 16 (helper cc): watching one incident is being on its CC list (compliance.Incident.cc).

The settings page's incident watches (Watch rows with an incident) move to the CC list, under the
same rule as compliance 0005 moved the Watch button's: only a person who may see the incident now
goes on it (the CC list gives sight of a security-sensitive incident; a watcher who may not see it
was mailed nothing of it). Then Watch keeps CA owners only.
"""

import django.db.models.deletion
from django.db import migrations, models


def incident_watches_to_cc(apps, schema_editor):
    import importlib

    cc_migration = importlib.import_module("compliance.migrations.0006_cc_saved_searches_owner_aliases")
    Watch = apps.get_model("notifications", "Watch")
    Incident = apps.get_model("compliance", "Incident")
    cc = Incident.cc.through
    pairs = Watch.objects.filter(incident__isnull=False).values_list("incident_id", "user_id")
    have = set(cc.objects.values_list("incident_id", "user_id"))
    cc.objects.bulk_create([cc(incident_id=i, user_id=u) for i, u in cc_migration.may_see(apps, pairs)
                            if (i, u) not in have], batch_size=1000)
    Watch.objects.filter(incident__isnull=False).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0002_bug_mail"),
        ("compliance", "0006_cc_saved_searches_owner_aliases"),
    ]

    operations = [
        migrations.RunPython(incident_watches_to_cc, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="watch", name="watch_exactly_one_subject"),
        migrations.RemoveConstraint(model_name="watch", name="unique_watch_incident"),
        migrations.RemoveField(model_name="watch", name="incident"),
        migrations.AlterField(
            model_name="watch",
            name="ca_owner",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="watches",
                                    to="registry.caowner"),
        ),
    ]
