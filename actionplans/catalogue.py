"""The toolbox (verktygslådan, DOMAIN.md §4.8) and the school's own measures (a–o): the
default catalogue every municipality starts from, and the service that gives it one.

The names are user-facing data, in Swedish, and the municipality's administrator edits them
on the administration site afterwards: renames, new interventions, retired ones (an item a
plan has used is retired, never deleted, so the plan still names it).

Migration ``0002_default_toolbox`` holds the same lists inline (migrations import no app
code); ``tests/actionplans/test_catalogue.py`` keeps the two equal.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet

from sst.models import Municipality

from .models import Catalogue, ToolboxCategory, ToolboxItem

DefaultCatalogue = Sequence[tuple[str, Sequence[str]]]

DEFAULT_TOOLBOX: DefaultCatalogue = (
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

# 004 appendix 3, a–o, in that order.
DEFAULT_SCHOOL_MEASURES: DefaultCatalogue = (
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

DEFAULTS: dict[str, DefaultCatalogue] = {
    Catalogue.TOOLBOX: DEFAULT_TOOLBOX,
    Catalogue.SCHOOL_MEASURES: DEFAULT_SCHOOL_MEASURES,
}


@transaction.atomic
def catalogue_ensure(municipality: Municipality) -> int:
    """Give the municipality the default catalogues it does not have yet; the number of
    interventions added. A catalogue it already has (edited or not) is left as it is, so
    running this again never brings back what the administrator renamed or retired."""
    added = 0
    have = set(
        ToolboxCategory.objects.filter(municipality=municipality).values_list(
            "catalogue", flat=True
        )
    )
    for catalogue, categories in DEFAULTS.items():
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
            added += len(items)
    return added


def municipality_saved(municipality: Municipality, *, by: object = None) -> None:
    """The municipality hook (``sst.services.register_municipality_hook``)."""
    catalogue_ensure(municipality)


def has_catalogue(municipality_id: int) -> bool:
    return ToolboxCategory.objects.filter(municipality_id=municipality_id).exists()


def offered_items(municipality_id: int, *, keep: Sequence[int] = ()) -> QuerySet[ToolboxItem]:
    """The interventions a plan may pick: the active ones of the municipality's catalogues,
    and the retired ones the plan already has (``keep``), so editing never drops them."""
    return (
        ToolboxItem.objects.filter(category__municipality_id=municipality_id)
        .filter(Q(active=True) | Q(pk__in=list(keep)))
        .select_related("category")
        .order_by("-category__catalogue", "category__order", "order", "name")  # the toolbox first
    )


def grouped_choices(items: QuerySet[ToolboxItem]) -> list[tuple[str, list[tuple[int, str]]]]:
    """``<optgroup>`` choices: one group per category, the toolbox first."""
    groups: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
    for item in items:
        groups.setdefault(item.category.name, []).append((item.pk, item.name))
    return list(groups.items())


def categories_of(municipality_id: int) -> QuerySet[ToolboxCategory]:
    return (
        ToolboxCategory.objects.filter(municipality_id=municipality_id)
        .prefetch_related(Prefetch("items", queryset=ToolboxItem.objects.order_by("order")))
        .order_by("-catalogue", "order")
    )
