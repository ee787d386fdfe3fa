"""Renaming and merging the builder's people ("Sam" typed two ways), said before it is done.

A merge keeps every link's stamped day; it changes the streak only when the two people
differ on living with the builder, and the page says so (`outerloop.effects`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.ownership import owned_choice_or_404, owned_or_404
from outerloop.effects import effect_of, no_effect
from reactions.forms import RenamePersonForm
from reactions.models import Recipient
from reactions.removal import what_goes


def first_name(name: str) -> str:
    """ "sam" for "Sam K.": how the merge page guesses who may be the same person."""
    words = name.casefold().split()
    return words[0] if words else ""


@login_required
@require_http_methods(["GET", "POST"])
def person_rename(request: HttpRequest, recipient_id: int) -> HttpResponse:
    """A new name and note (GET: the form, saying the streak stays; POST: saved, or 400 with
    the offer to merge when another of the builder's people has that name)."""
    person = owned_or_404(Recipient, request, pk=recipient_id)
    name = person.name  # the form writes the new one onto the instance
    form = RenamePersonForm(request.POST if request.method == "POST" else None, instance=person)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Renamed {name} to {person.name}.")
        return redirect("reactions:people")
    context = {"person_id": person.pk, "name": name, "form": form}
    context["effect"] = no_effect(request.user)
    status = 400 if form.errors else 200
    return render(request, "reactions/person_rename.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def person_merge(request: HttpRequest, recipient_id: int) -> HttpResponse:
    """Pick another person (a list of links), then confirm: this one's links move to them."""
    person = owned_or_404(Recipient, request, pk=recipient_id)
    others = Recipient.objects.owned_by(request.user).exclude(pk=person.pk)
    target = owned_choice_or_404(others, request, "into")
    if target is None:
        mine = first_name(person.name)
        choices = [
            (other, first_name(other.name) == mine)
            for other in others.annotate(links=Count("shares"))
        ]
        choices.sort(key=lambda choice: not choice[1])  # the same first name first
        context = {"person": person, "choices": choices}
        status = 400 if request.method == "POST" else 200
        return render(request, "reactions/person_merge.html", context, status=status)
    if request.method == "POST":
        person.merge_into(target)
        messages.success(request, f"{person.name} is now part of {target.name}.")
        return redirect("reactions:people")
    context = {
        "person": person,
        "target": target,
        "goes": what_goes(person.shares.all()),
        "effect": effect_of(request.user, lambda: person.merge_into(target)),
    }
    return render(request, "reactions/person_merge.html", context)
