"""Referrals (uppdragsförfrågan) and the referral forum (a later issue)."""
