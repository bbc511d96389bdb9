"""Audit trail: append-only, hash-chained events. Write them with ``audit.record``."""


def record(**kwargs):
    """Append an audit event; see ``audit.services.record``."""
    from audit import services

    return services.record(**kwargs)
