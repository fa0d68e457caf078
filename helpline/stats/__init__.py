"""Anonymised statistics for managers: daily roll-ups of metadata, suppressed tables, SVG charts.

privacy.py holds every disclosure rule; nothing else decides what may be shown.
"""
