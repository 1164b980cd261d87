"""CSV imports: the school register, the student register and lesson attendance.

``reader`` reads a register export (blocks, decoding, records, header and columns);
``registers`` imports schools and students; ``lessons`` stages and upserts the lessons;
``runs`` is the import run's lifecycle; ``jobs`` drives a run (upload, task, dispatch).
Every import is one transaction: all rows or none, with a per-row error report that names
row numbers and problems — never the personnummer itself.
"""
