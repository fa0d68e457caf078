"""Real-time chat: the wire protocol (protocol.py), the conversation lifecycle and the other pure
rules such as opening hours (model.py), every chat query (repository.py), the use cases
(service.py, teamwork.py), the message writer (writer.py), abuse limits (abuse.py,
resume_guard.py), this process's connections (hub.py), the brokers (broker.py, redis_broker.py)
and the WebSocket endpoints (web.py). It imports neither referral nor the console."""
