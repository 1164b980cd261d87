"""Aggregated dashboards and term reports as PDF (a later issue)."""
