import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def cases_at_students_school(apps, schema_editor):
    """Until now a case belonged to its student's school: every existing case stays there."""
    Case = apps.get_model("cases", "Case")
    Student = apps.get_model("sst", "Student")
    Case.objects.filter(school__isnull=True).update(
        school=Subquery(Student.objects.filter(pk=OuterRef("student_id")).values("school_id")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_cause_factor_order_verbose_name"),
        ("sst", "0007_student_move_and_enrolled_on"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="school",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sst.school",
                verbose_name="school",
            ),
        ),
        migrations.RunPython(cases_at_students_school, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="case",
            name="school",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sst.school",
                verbose_name="school",
            ),
        ),
    ]
