"""The student health team (EHT): who is reported to it, its meetings, agenda and decisions.

``selectors`` holds the reads (from the access policy), ``services`` the writes, ``forms``
and ``views`` the pages (with the principal's step-4 escalation pages), ``urls`` their
patterns.
"""
