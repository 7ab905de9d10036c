# Attachments of incidents (issue 16); written by hand so it holds only this model.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import compliance.models_attachments


class Migration(migrations.Migration):

    dependencies = [
        ('compliance', '0004_severity_hp'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Attachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(max_length=200, storage=compliance.models_attachments.attachment_storage, upload_to=compliance.models_attachments.attachment_upload_to)),
                ('filename', models.CharField(max_length=255)),
                ('description', models.CharField(max_length=400)),
                ('content_type', models.CharField(max_length=100)),
                ('size', models.PositiveBigIntegerField()),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                ('is_private', models.BooleanField(default=False)),
                ('is_obsolete', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
                ('comment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='attachments', to='compliance.comment')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='compliance.incident')),
                ('uploader', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='attachments', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['created_at', 'pk'],
                'indexes': [models.Index(fields=['incident', 'created_at'], name='attachment_incident_time_idx')],
            },
        ),
    ]
