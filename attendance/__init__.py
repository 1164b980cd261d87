"""Lesson attendance, imports, monthly rollups and the absence staircase (next issue)."""
