"""Notification pages: the signed-in person's list, marking read, email preferences."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from notifications import forms, selectors, services


@require_http_methods(["GET", "POST"])
def notification_list(request):
    """List the person's notifications and their email preferences; POST saves preferences."""
    form = forms.EmailPreferencesForm(
        request.POST or None, initial={"emailed": sorted(selectors.emailed_kinds(request.user))}
    )
    if request.method == "POST" and form.is_valid():
        emailed = form.cleaned_data["emailed"]
        services.email_preferences_set(user=request.user, emailed_kinds=emailed)
        messages.success(request, "Email preferences saved.")
        return redirect("notifications")
    context = {"notifications": selectors.notifications_for(request.user), "form": form}
    return render(request, "notifications/list.html", context, status=422 if form.errors else 200)


@require_POST
def notification_read(request):
    """Mark one notification (``id``) or all of the person's notifications read."""
    ids = request.POST.getlist("id")
    clean = [int(i) for i in ids if i.isdigit()]
    services.notifications_mark_read(user=request.user, ids=clean if ids else None)
    return redirect("notifications")


def notification_open(request, pk: int):
    """Open a notification's page and mark it read (only the person's own; 404 otherwise)."""
    note = selectors.notification_of(request.user, pk)
    if note is None:
        raise Http404("No such notification.")
    services.notifications_mark_read(user=request.user, ids=[note.pk])
    # Links are paths the workbench wrote; anything else goes back to the list.
    local = note.link.startswith("/") and not note.link.startswith("//")
    return redirect(note.link if local else "notifications")
