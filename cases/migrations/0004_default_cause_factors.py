"""The default catalogue of cause factors (Trosa 004 appendix 4; Avesta 000), in Swedish as
in the sources. Administrators change the catalogue afterwards; this only adds what is
missing, so running it again changes nothing."""

from django.db import migrations

DEFAULT_CAUSE_FACTORS = [
    ("school", 1, "Mobbning"),
    ("school", 2, "Socialt klimat"),
    ("school", 3, "Fysisk miljö/arbetsmiljö"),
    ("school", 4, "Behov av stöd och anpassning"),
    ("individual", 1, "Ångestproblematik"),
    ("individual", 2, "Neuropsykiatriska funktionshinder"),
    ("individual", 3, "Depression/nedstämdhet"),
    ("family", 1, "Föräldrars egna erfarenheter av skolan"),
    ("family", 2, "Kommunikation i familjen"),
    ("family", 3, "Praktiska möjligheter att stötta sitt barn"),
    ("other", 1, "Medicinska orsaker"),
]


def add_default_cause_factors(apps, schema_editor):
    CauseFactor = apps.get_model("cases", "CauseFactor")
    for group, order, label in DEFAULT_CAUSE_FACTORS:
        CauseFactor.objects.get_or_create(
            group=group, label=label, defaults={"order": order, "active": True}
        )


def remove_unused_default_cause_factors(apps, schema_editor):
    CauseFactor = apps.get_model("cases", "CauseFactor")
    for group, _order, label in DEFAULT_CAUSE_FACTORS:
        CauseFactor.objects.filter(
            group=group, label=label, schoolsocialmapping__isnull=True
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_cases_chronology_checklist_eht_mapping"),
    ]

    operations = [
        migrations.RunPython(add_default_cause_factors, remove_unused_default_cause_factors),
    ]
