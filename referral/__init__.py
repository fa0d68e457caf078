"""Referrals to Child Protection Officers, police and services (the workflow grows here)."""
