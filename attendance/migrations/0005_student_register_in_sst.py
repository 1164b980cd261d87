"""The student foreign keys point at ``sst.Student`` (the register moved from ``cases``).

State only: the database columns and constraints already point at the renamed table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0004_lean_lesson_and_monthly_indexes"),
        ("sst", "0004_student_register_from_cases"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="alert",
                    name="student",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="alerts", to="sst.student"),
                ),
                migrations.AlterField(
                    model_name="lesson",
                    name="student",
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="lessons", to="sst.student"),
                ),
                migrations.AlterField(
                    model_name="monthlyabsence",
                    name="student",
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="monthly_absence", to="sst.student"),
                ),
            ],
        ),
    ]
