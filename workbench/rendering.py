"""One way to answer with a page or, for htmx, one partial of the same template.

A view whose answer depends on the ``HX-Request`` header renders every branch through
``render_page``: an htmx request (not a boosted one, which wants the page) gets
``template#partial`` (django-template-partials), any other request the whole page, and both say
``Vary: HX-Request`` so that a cache never serves one for the other.
"""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.http import HTMX_STOP_POLLING


def wants_partial(request) -> bool:
    """Whether the request is htmx swapping part of a page (not a boosted link or form)."""
    return bool(request.htmx) and not request.htmx.boosted


def render_page(
    request,
    template: str,
    context: dict | None = None,
    *,
    partial: str = "",
    status: int = 200,
    stop_polling: bool = False,
    vary: tuple[str, ...] = (),
):
    """Render ``template``, or only its ``partial`` for an htmx request; vary on HX-Request.

    ``stop_polling`` answers a partial with 286, which ends htmx polling (the page keeps
    ``status``); ``vary`` names any other request header the view reads to choose its answer.
    """
    fragment = bool(partial) and wants_partial(request)
    name = f"{template}#{partial}" if fragment else template
    if fragment and stop_polling:
        status = HTMX_STOP_POLLING
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request", *vary))
    return response
