"""Referrals to Child Protection Officers, police and services: the lifecycle as pure rules
(model.py), the agency directory (directory.py, admin_directory.py), the use cases (service.py),
the two-person rule on disclosures (disclosures.py), notices by email (notices.py), deadlines and
escalation (deadlines.py), the background loop (worker.py) and the officers' portal API (portal.py)."""
