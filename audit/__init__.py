"""Audit trail: append-only, hash-chained events. Write them with ``audit.record``."""


def record(**kwargs):
    """Append an audit event; see ``audit.services.record``."""
    from audit import services

    return services.record(**kwargs)


def as_system(label: str):
    """Record the block's events under a system actor; see ``audit.services.as_system``."""
    from audit import services

    return services.as_system(label)
