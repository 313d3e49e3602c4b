"""Sections of the customer profile page that other features add (consents, privacy requests…).

A feature registers a section once, at import time (e.g. in its ``apps.ready`` or at the
bottom of its views module)::

    from customers.profile import register_section

    def consent_context(user, customer):
        return {"consents": selectors.consent_list(user=user, customer=customer)}

    register_section("Consents", "customers/consent_profile_section.html", consent_context,
                     permission="customers.view_consent")

The profile view renders every registered section the user holds the permission for, in
order of ``order``, after the built-in sections (details, preferences, timeline). Each
template gets the page's context plus what its context function returns. A context function
must read through selectors (``restrict``); it must not record the read: the profile view
has already recorded it with its purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ContextFunction = Callable[[Any, Any], dict[str, Any]]


@dataclass(frozen=True)
class ProfileSection:
    title: str
    template: str
    context: ContextFunction
    permission: str | None = None
    order: int = 100


PROFILE_SECTIONS: list[ProfileSection] = []


def register_section(
    title: str,
    template: str,
    context: ContextFunction,
    *,
    permission: str | None = None,
    order: int = 100,
) -> ProfileSection:
    """Add a section to the customer profile page (a second registration of TITLE replaces the first)."""
    section = ProfileSection(title, template, context, permission, order)
    PROFILE_SECTIONS[:] = [s for s in PROFILE_SECTIONS if s.title != title]
    PROFILE_SECTIONS.append(section)
    PROFILE_SECTIONS.sort(key=lambda s: (s.order, s.title))
    return section


def sections_for(user: Any, customer: Any) -> list[dict[str, Any]]:
    """The registered sections USER may see, each with its rendered context."""
    shown = []
    for section in PROFILE_SECTIONS:
        if section.permission and not user.has_perm(section.permission):
            continue
        shown.append(
            {"title": section.title, "template": section.template, "context": section.context(user, customer)}
        )
    return shown
