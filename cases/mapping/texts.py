"""The questions of the school-social mapping as the source has them (Trosa 004,
appendix 2): its areas and the analysis statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# After this many missed offered times the principal is informed (Trosa 004, appendix 2).
MISSED_TIMES_BEFORE_PRINCIPAL = 3


@dataclass(frozen=True)
class Area:
    """One of the four areas of the counsellor's talk, with the prompts of the source."""

    field: str
    question: StrPromise
    prompts: StrPromise


# Trosa 004, appendix 2, "Frågor/områden som diskuteras i kurators samtal med eleven".
AREAS: tuple[Area, ...] = (
    Area(
        "school_situation",
        gettext_lazy("How do you experience your situation at school, pedagogically and socially?"),
        gettext_lazy(
            "School work, what has worked and works today, difficulties, the cause of the "
            "absence, relations and interaction with staff and students in lessons and breaks."
        ),
    ),
    Area(
        "wellbeing",
        gettext_lazy("How do you feel emotionally?"),
        gettext_lazy(
            "Self-confidence, self-esteem, identity, stress, sleep, food, view of the future, "
            "stomach ache and headache."
        ),
    ),
    Area(
        "home_and_leisure",
        gettext_lazy("What is your situation at home and in your free time?"),
        gettext_lazy("Family, home conditions, network and leisure."),
    ),
    Area(
        "support_needed",
        gettext_lazy("What support do you think you need for absence to become attendance?"),
        gettext_lazy("What the school can do, what you can do yourself, what your parents can do."),
    ),
)
AREA_FIELDS = tuple(area.field for area in AREAS)

# Trosa 004, appendix 3, "Analysfrågor" (stämmer / delvis / ej). The keys are stored in
# ``SchoolSocialMapping.analysis`` and feed the group statistics: never rename one.
ANALYSIS_STATEMENTS: tuple[tuple[str, StrPromise], ...] = (
    ("absence_increased", gettext_lazy("The student's absence has increased")),
    ("schoolwork_missing", gettext_lazy("The student's school work has not been done")),
    (
        "goals_some_subjects",
        gettext_lazy("The student finds it hard to reach the goals in some subjects"),
    ),
    (
        "irregular_routines",
        gettext_lazy("The student has developed irregular routines at school"),
    ),
    (
        "conflicts_about_school",
        gettext_lazy("The student and the guardians end up in conflicts about school"),
    ),
    ("low_mood", gettext_lazy("The student shows low mood")),
    (
        "dependencies",
        gettext_lazy("The student has developed dependencies, e.g. computer and TV games"),
    ),
    ("final_grades_at_risk", gettext_lazy("The student risks not getting final grades")),
    (
        "lost_self_belief",
        gettext_lazy("The student has lost faith in themselves and their ability"),
    ),
    (
        "isolates_from_friends",
        gettext_lazy("The student isolates themselves from their friends at school"),
    ),
    (
        "worry_about_schoolwork",
        gettext_lazy("The student shows a strong feeling of worry about school work"),
    ),
    ("compulsive_behaviour", gettext_lazy("The student shows symptoms of compulsive behaviour")),
    ("fatigue", gettext_lazy("The student shows fatigue syndrome")),
    (
        "isolates_from_family",
        gettext_lazy(
            "The student isolates themselves and avoids contact with close ones and family"
        ),
    ),
)
ANALYSIS_KEYS = frozenset(key for key, _label in ANALYSIS_STATEMENTS)
