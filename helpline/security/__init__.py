"""Staff authentication, sessions and the audit log."""
