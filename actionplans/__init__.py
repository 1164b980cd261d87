"""Action plans, goals, the toolbox and maintenance plans (a later issue)."""
