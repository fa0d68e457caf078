"""The counsellor and supervisor console: its routes (web.py gathers auth.py, mfa.py, keys.py,
cases.py, supervise.py, admin.py, emergency.py), the console and portal templates and their scripts and
styles (templates/, static/)."""
