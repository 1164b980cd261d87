"""The mentor checklist at repeated absence (Trosa 004, appendix 1), staircase step 2.

``texts`` holds the paper form's questions and time limits, ``selectors`` the reads (from
the access policy), ``services`` the writes, ``forms`` and ``views`` the pages, ``urls``
their patterns.
"""
