"""Staff authentication, sessions, devices, the sign-in throttle, proof of work, permissions and
the audit log."""
