"""The student and guardian register moves to ``sst`` (1 of 2): its tables are renamed.

The rows stay where they are; only the names change (cases_student → sst_student, …), so
``sst.Student`` finds them under the default table name of its new app. The state of the
models moves in sst/0004 and cases/0006.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_default_cause_factors"),
    ]

    operations = [
        migrations.AlterModelTable(name="student", table="sst_student"),
        migrations.AlterModelTable(name="guardian", table="sst_guardian"),
        migrations.AlterModelTable(name="custody", table="sst_custody"),
        # Index names are derived from the table name; keep the derived name in step.
        migrations.RenameIndex(
            model_name="student",
            new_name="sst_student_school__4e0104_idx",
            old_name="cases_stude_school__95fa20_idx",
        ),
    ]
