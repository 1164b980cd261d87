"""Follow-ups every 4–6 weeks, closure and after-care (a later issue)."""
