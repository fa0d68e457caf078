"""The counsellor and supervisor console."""
