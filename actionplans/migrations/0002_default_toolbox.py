"""Every existing municipality gets the default toolbox and the school's own measures
(DOMAIN.md §4.8). The lists are written here, not imported (a migration imports no app
code); ``actionplans.catalogue`` holds the same lists for municipalities made later, and a
test keeps the two equal."""

from django.db import migrations

TOOLBOX = (
    ("Struktur", ("Veckoplanering", "Uppföljning", "Påminnelser")),
    (
        "Motivation och framtid",
        (
            "Motiverande samtal",
            "Stödjande samtal",
            "Lyfta fram framgångar",
            "Samtal om framtiden",
        ),
    ),
    (
        "Coachning och trygghet",
        (
            "Incheckning och utcheckning",
            "Mötas upp före skolan en stund",
            "Bygga trygghet och hitta trygga personer",
            "Coachning och uppmuntran",
            "Stöd i svåra situationer",
        ),
    ),
    (
        "Lärmiljö",
        (
            "Stöd för att förbättra relationen till lärare",
            "Anpassad klassrums- och lärmiljö",
            "Länk till mentor och specialpedagog",
            "Stöd i början av en ny anpassning",
        ),
    ),
    (
        "Vårdnadshavare",
        (
            "Regelbundna samtal och sms",
            "Enskilda samtal med ett stärkande perspektiv",
            "Lyssna in förälderns perspektiv",
            "Föräldrastöd enskilt eller i grupp",
        ),
    ),
    (
        "Socialt och fritid",
        (
            "Kontakt med klasskamrater",
            "Hitta ett fritidsintresse och följa med i början",
            "Introduktion till fältarbetare",
            "Relationsskapande aktiviteter (gym, stall, hundpromenader, musik, måleri)",
        ),
    ),
    (
        "Samverkan",
        (
            "Samordna insatser med skolans personal",
            "Länka ihop befintliga eller nya insatser",
            "Kontaktperson för andra verksamheter",
            "Länk till andra verksamheter i stadsdelen",
            "SIP (samordnad individuell plan med hälso- och sjukvården)",
        ),
    ),
)

SCHOOL_MEASURES = (
    (
        "Skolans egna åtgärder",
        (
            "Tydlig närvaroregistrering",
            "Dialog med vårdnadshavare",
            "Intressebaserad undervisning",
            "Kartläggning",
            "Tydliga rutiner",
            "En plan med små delmål",
            "En kontaktperson",
            "Åtgärdsprogram",
            "Individuella anpassningar",
            "En trygg miljö",
            "Flexibel kontakt",
            "Samordning av nätverket",
            "Anpassning efter dagsformen",
            "Undervisning på bibliotek eller kafé nära hemmet",
            "Undervisning i hemmet (en sista utväg)",
        ),
    ),
)

CATALOGUES = {"toolbox": TOOLBOX, "school": SCHOOL_MEASURES}


def add_defaults(apps, schema_editor):
    Municipality = apps.get_model("sst", "Municipality")
    ToolboxCategory = apps.get_model("actionplans", "ToolboxCategory")
    ToolboxItem = apps.get_model("actionplans", "ToolboxItem")
    for municipality in Municipality.objects.all():
        have = set(
            ToolboxCategory.objects.filter(municipality=municipality).values_list(
                "catalogue", flat=True
            )
        )
        for catalogue, categories in CATALOGUES.items():
            if catalogue in have:
                continue
            for order, (name, items) in enumerate(categories, start=1):
                category = ToolboxCategory.objects.create(
                    municipality=municipality, catalogue=catalogue, name=name, order=order
                )
                ToolboxItem.objects.bulk_create(
                    ToolboxItem(category=category, name=item, order=index)
                    for index, item in enumerate(items, start=1)
                )


class Migration(migrations.Migration):
    dependencies = [("actionplans", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
