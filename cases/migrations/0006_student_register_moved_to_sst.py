"""The student and guardian register now lives in ``sst`` (state only).

``Case.student`` points at ``sst.Student`` and the old models leave this app's state; the
tables themselves were renamed by 0005 and belong to sst/0004's models.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_student_register_tables_to_sst"),
        ("sst", "0004_student_register_from_cases"),
        ("attendance", "0005_student_register_in_sst"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="student",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="cases", to="sst.student"),
                ),
                migrations.DeleteModel(name="Custody"),
                migrations.DeleteModel(name="Guardian"),
                migrations.DeleteModel(name="Student"),
            ],
        ),
    ]
