"""The mentor checklist as the paper form has it (Trosa 004, appendix 1): its questions, its
parts and the time limits of the follow-up.
"""

from __future__ import annotations

import datetime

# The five questions of the paper form, in its order: (answer field, comment field).
QUESTIONS = (
    ("illness", "illness_comment"),
    ("thrives", "thrives_comment"),
    ("has_friends", "has_friends_comment"),
    ("schoolwork_difficulties", "schoolwork_difficulties_comment"),
    ("pattern", "pattern_comment"),
)
ANSWER_FIELDS = tuple(answer for answer, _comment in QUESTIONS)
CHECKLIST_FIELDS = (
    "mentor_name",
    "talked_with_student_on",
    "talked_with_guardian_on",
    *(name for pair in QUESTIONS for name in pair),
)
FOLLOW_UP_FIELDS = (
    "continued_absence",
    "follow_up_comment",
    "follow_up_done_at",
    "reported_to_eht_at",
)
EHT_FIELDS = (
    "eht_guardian_contact_by",
    "eht_guardian_contact_on",
    "eht_feedback_by",
    "eht_feedback_on",
    "eht_no_further_follow_up",
    "eht_comment",
    "eht_recorded_at",
)
FOLLOW_UP_AFTER = datetime.timedelta(days=7)
# A checklist records the talks about this absence; a talk dated further back is refused.
TALKS_REACH_BACK = datetime.timedelta(days=90)
# Follow-ups due within this many days count as "soon" on the desk.
SOON_DAYS = 3
PANEL_LIMIT = 50
RECENT_COPIES_DAYS = 14
