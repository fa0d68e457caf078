"""Anonymised statistics for managers: daily roll-ups of metadata (rollups.py), the counts of a
period (queries.py), row labels (labels.py), suppressed tables (tables.py) and the report made of
them (report.py), its JSON and CSV forms (export.py), SVG charts (charts.py), the /stats dashboard,
its API and CSV export (web.py, with its template under templates/stats/ and static/stats.css), and
the demo-data generator (demo.py).

privacy.py holds every disclosure rule; nothing else decides what may be shown. Statistics read the
tables (helpline.models); they never run a workflow: this package imports neither chat.service nor
referral (the agencies for demo data come from the caller).
"""
