"""The mapping step (DOMAIN.md §4.3): the counsellor's school-social mapping and the
student's approval, the times offered for the mapping talk, the special educator's
pedagogical mapping and the school nurse's health talk.

``texts`` holds the source's questions, ``services`` the writes, ``selectors`` the reads
(where the confidentiality rules are enforced, in the queries), ``forms`` and ``views`` the
pages, ``urls`` their patterns.
"""
