"""The student health team (EHT): who is reported to it, its meetings, agenda and decisions.

``selectors`` holds the reads (from the access policy), ``services`` the writes, ``forms``
and ``views`` the pages (with the principal's step-4 escalation pages), ``urls`` their
patterns.
"""

# compat: sst/demo.py is split into per-app demo registries at the same time and still
# reaches these by ``cases.eht.<name>``; removed after merge.
from .services import eht_decision_record, eht_meeting_schedule  # noqa: F401
