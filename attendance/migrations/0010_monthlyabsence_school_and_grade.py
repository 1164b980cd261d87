"""The school and grade of each monthly row, so a report of an earlier term counts a student
where they were then. Rows that exist already take the register as it is now (the best there
is; before this migration the reports did the same)."""

import django.db.models.deletion
from django.db import migrations, models

# Plain SQL that PostgreSQL and SQLite both run. A row whose student is gone (the key has no
# constraint in the database; Django deletes a student's rows with the student, raw SQL may
# not) would be left without a school, and the NOT NULL below would fail: it goes first.
ORPHANS = """
DELETE FROM attendance_monthlyabsence
WHERE NOT EXISTS (SELECT 1 FROM sst_student s WHERE s.id = student_id)
"""
FROM_REGISTER = """
UPDATE attendance_monthlyabsence
SET school_id = (SELECT s.school_id FROM sst_student s WHERE s.id = student_id),
    grade = (SELECT s.grade FROM sst_student s WHERE s.id = student_id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0009_school_calendar_terms_and_breaks"),
        ("sst", "0009_role_head_of_schools"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthlyabsence",
            name="school",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sst.school",
            ),
        ),
        migrations.AddField(
            model_name="monthlyabsence",
            name="grade",
            field=models.CharField(
                choices=[
                    ("F", "Preschool class (F)"),
                    ("1", "1"),
                    ("2", "2"),
                    ("3", "3"),
                    ("4", "4"),
                    ("5", "5"),
                    ("6", "6"),
                    ("7", "7"),
                    ("8", "8"),
                    ("9", "9"),
                ],
                default="",
                max_length=1,
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(ORPHANS, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(FROM_REGISTER, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="monthlyabsence",
            name="school",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sst.school",
            ),
        ),
    ]
