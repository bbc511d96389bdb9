"""Background work of the tariffs app (django-q2). Tasks take ids, never model instances."""

import logging

from django_q.tasks import async_task

log = logging.getLogger(__name__)


def enqueue_embed(jurisdiction: str, revision: str) -> None:
    """Queue the semantic index of a newly loaded schedule revision on the django-q2 cluster."""
    async_task(
        "tariffs.tasks.schedule_embed",
        jurisdiction,
        revision,
        task_name=f"tariffs-embed-{jurisdiction}-{revision}"[:100],
    )
    async_task(
        "tariffs.tasks.schedule_transformer",
        jurisdiction,
        revision,
        task_name=f"tariffs-transformer-{jurisdiction}-{revision}"[:100],
    )


def schedule_embed(jurisdiction: str, revision: str) -> str:
    """Build (or find) the semantic index of one revision under ``var/embeddings/``.

    Never raises: without the model the engine searches by words and each decision says why;
    the state is returned and logged for the operator.
    """
    from tariffs import reference

    ref = reference.get_reference(jurisdiction, revision)
    if ref is None:
        return f"{jurisdiction} {revision} is not loaded"
    try:
        index, why = ref.semantic(wait=True)
    except Exception as err:  # the worker stays up; the engine falls back to words
        log.exception("semantic index of %s %s failed", jurisdiction, revision)
        return f"failed: {err}"
    state = "ready" if index is not None else why
    log.info("semantic index of %s %s: %s", jurisdiction, revision, state)
    return state


def schedule_transformer(jurisdiction: str, revision: str) -> str:
    """Build (or find) the transformer's vectors of one revision's lines under ``var/embeddings/``
    (minutes of one core); a worker that finds the file reads it instead of building its own.

    Never raises: without them the engine ranks without the transformer re-rank and says so.
    """
    from tariffs import reference

    ref = reference.get_reference(jurisdiction, revision)
    if ref is None:
        return f"{jurisdiction} {revision} is not loaded"
    try:
        index, why = ref.transformer(wait=True)
    except Exception as err:  # the worker stays up; the engine ranks without the re-rank
        log.exception("transformer vectors of %s %s failed", jurisdiction, revision)
        return f"failed: {err}"
    state = "ready" if index is not None else why
    log.info("transformer vectors of %s %s: %s", jurisdiction, revision, state)
    return state
