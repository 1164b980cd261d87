"""The student and guardian register moves from ``cases`` to ``sst`` (2 of 2 for this app).

Nothing is created in the database: cases/0005 renamed the tables to the names these models
have here, so the models are only added to the migration state. Content types (and with them
the auth permissions that point at them) are moved to the new app label.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ("student", "guardian", "custody")


def _move_content_types(apps, from_label: str, to_label: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if content_type.objects.filter(app_label=to_label, model=model).exists():
            continue
        content_type.objects.filter(app_label=from_label, model=model).update(
            app_label=to_label
        )


def content_types_to_sst(apps, schema_editor):
    _move_content_types(apps, "cases", "sst")


def content_types_to_cases(apps, schema_editor):
    _move_content_types(apps, "sst", "cases")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sst", "0003_mentor_group_pending_mentor"),
        ("cases", "0005_student_register_tables_to_sst"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Guardian",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("personnummer_ciphertext", models.TextField(editable=False)),
                        ("personnummer_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("is_coordination_number", models.BooleanField(default=False, verbose_name="coordination number")),
                        ("first_name", models.CharField(max_length=100, verbose_name="first name")),
                        ("last_name", models.CharField(max_length=100, verbose_name="last name")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("phone", models.CharField(blank=True, max_length=40, verbose_name="phone")),
                        ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail")),
                    ],
                    options={
                        "verbose_name": "guardian",
                        "verbose_name_plural": "guardians",
                        "ordering": ["last_name", "first_name"],
                    },
                ),
                migrations.CreateModel(
                    name="Student",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("personnummer_ciphertext", models.TextField(editable=False)),
                        ("personnummer_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("is_coordination_number", models.BooleanField(default=False, verbose_name="coordination number")),
                        ("first_name", models.CharField(max_length=100, verbose_name="first name")),
                        ("last_name", models.CharField(max_length=100, verbose_name="last name")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("grade", models.CharField(choices=[("F", "Preschool class (F)"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"), ("6", "6"), ("7", "7"), ("8", "8"), ("9", "9")], max_length=1, verbose_name="grade")),
                        ("gender", models.CharField(choices=[("girl", "Girl"), ("boy", "Boy"), ("other", "Other / not recorded")], default="other", max_length=8, verbose_name="gender (as recorded)")),
                        ("mentor_group", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="students", to="sst.mentorgroup", verbose_name="mentor group")),
                        ("school", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="students", to="sst.school", verbose_name="school")),
                    ],
                    options={
                        "verbose_name": "student",
                        "verbose_name_plural": "students",
                        "ordering": ["last_name", "first_name"],
                        "indexes": [models.Index(fields=["school", "grade"], name="sst_student_school__4e0104_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="Custody",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("has_custody", models.BooleanField(default=True, verbose_name="has custody")),
                        ("guardian", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="custodies", to="sst.guardian")),
                        ("student", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="custodies", to="sst.student")),
                    ],
                    options={
                        "verbose_name": "guardianship",
                        "verbose_name_plural": "guardianships",
                        "constraints": [models.UniqueConstraint(fields=("student", "guardian"), name="custody_unique_pair")],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_sst, content_types_to_cases),
    ]
