"""API: who am I, my API tokens, and (administrators) people and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from accounts import selectors, services
from accounts.models import ApiToken, User
from accounts.roles import ROLES
from core.api import InputSchema, ObjectId, actor, paginate
from vendors.models import Vendor

router = Router(tags=["accounts"])

ROLE_LIST = ", ".join(ROLES)


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    roles: list[str]
    vendor_id: int | None
    two_factor_verified: bool


@router.get("/me", response=MeOut, summary="The signed-in user and their roles")
def me(request: HttpRequest) -> MeOut:
    user = actor(request)
    return MeOut(
        id=user.pk,
        username=user.username,
        full_name=user.get_full_name(),
        roles=sorted(user.role_codes),
        vendor_id=user.vendor_id,
        two_factor_verified=bool(getattr(user, "is_verified", lambda: False)()),
    )


# --- API tokens ---------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class TokenIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)
    scope: ApiToken.Scope = ApiToken.Scope.READ
    days: int = Field(90, ge=1, le=settings.STEWARD_API_TOKEN_MAX_DAYS)


class TokenIssuedOut(TokenOut):
    token: str = Field(..., description="The whole token. Shown once; store it now.")


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
@paginate
def token_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.token_list(user=request.user)


@router.post("/tokens", response={201: TokenIssuedOut}, summary="Issue a new API token (shown once)")
def token_create(
    request: HttpRequest, payload: TokenIn, response: HttpResponse
) -> tuple[int, dict[str, Any]]:
    user = actor(request)
    if not user.has_perm("accounts.add_apitoken"):
        raise PermissionDenied("Your role may not hold API tokens.")
    issued = services.token_create(user=user, name=payload.name, scope=payload.scope, days=payload.days)
    response["Cache-Control"] = "no-store"  # the body holds a secret
    return 201, {**TokenOut.model_validate(issued.token).model_dump(), "token": issued.secret}


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="Revoke one of my tokens")
def token_revoke(request: HttpRequest, token_id: ObjectId) -> ApiToken:
    token = selectors.token_get(user=request.user, pk=token_id, action="change")
    return services.token_revoke(token=token, actor=actor(request))


# --- People (administrators) ----------------------------------------------------------------------


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    roles: list[str]
    vendor_id: int | None
    is_active: bool
    two_factor: bool = Field(..., description="Whether the person has a confirmed authenticator app.")
    last_login: datetime | None
    date_joined: datetime

    @staticmethod
    def resolve_roles(obj: User) -> list[str]:
        return selectors.role_codes_of(obj)

    @staticmethod
    def resolve_two_factor(obj: User) -> bool:
        return bool(getattr(obj, "has_two_factor", False))


RoleCode = Annotated[str, Field(min_length=1, max_length=50)]


class UserIn(InputSchema):
    username: str = Field(..., min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(..., min_length=1, max_length=4096)
    roles: list[RoleCode] = Field(..., max_length=len(ROLES), description=f"Role codes: {ROLE_LIST}.")
    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    vendor_id: ObjectId | None = Field(None, description="Required for (and only for) vendor portal users.")


class RolesIn(InputSchema):
    roles: list[RoleCode] = Field(..., max_length=len(ROLES), description=f"Role codes: {ROLE_LIST}.")


class UserQuery(Schema):
    role: str = Field("", max_length=50)
    search: str = Field("", max_length=100)


def _require(request: HttpRequest, permission: str, message: str) -> User:
    user = actor(request)
    if not user.has_perm(permission):
        raise PermissionDenied(message)
    return user


@router.get("/users", response=list[UserOut], summary="People who can sign in (administrators)")
@paginate
def user_list(request: HttpRequest, filters: Query[UserQuery]):  # type: ignore[no-untyped-def]
    _require(request, "accounts.view_user", "Listing people needs the administrator role.")
    return selectors.user_list(user=request.user, role=filters.role, search=filters.search)


@router.get("/users/{user_id}", response=UserOut, summary="One person (administrators)")
def user_detail(request: HttpRequest, user_id: ObjectId) -> User:
    return selectors.user_get(user=request.user, pk=user_id)


@router.post("/users", response={201: UserOut}, summary="Create a person with roles (administrators)")
def user_create(request: HttpRequest, payload: UserIn) -> tuple[int, User]:
    admin = _require(request, "accounts.add_user", "Creating people needs the administrator role.")
    vendor = None
    if payload.vendor_id is not None:
        vendor = Vendor.objects.restrict(admin).filter(pk=payload.vendor_id).first()
        if vendor is None:
            raise ValidationError({"vendor_id": "No such vendor."})
    person = services.user_create(
        username=payload.username,
        password=payload.password,
        roles=payload.roles,
        email=payload.email,
        first_name=payload.first_name,
        last_name=payload.last_name,
        vendor=vendor,
        actor=admin,
    )
    return 201, selectors.user_get(user=admin, pk=person.pk)


@router.put("/users/{user_id}/roles", response=UserOut, summary="Replace a person's roles (administrators)")
def user_set_roles(request: HttpRequest, user_id: ObjectId, payload: RolesIn) -> User:
    person = selectors.user_get(user=request.user, pk=user_id, action="change")
    services.user_set_roles(user=person, roles=payload.roles, actor=actor(request))
    return selectors.user_get(user=request.user, pk=user_id)


class SecurityResetOut(Schema):
    removed: int = Field(..., description="Authenticator apps removed, or failed attempts cleared.")


@router.post(
    "/users/{user_id}/two-factor/reset",
    response=SecurityResetOut,
    summary="Remove a person's authenticator apps so they can enrol again (administrators)",
)
def two_factor_reset(request: HttpRequest, user_id: ObjectId) -> SecurityResetOut:
    admin = _require(request, "accounts.change_user", "Resetting two-factor needs the administrator role.")
    person = selectors.user_get(user=request.user, pk=user_id, action="change")
    return SecurityResetOut(removed=services.two_factor_reset(user=person, actor=admin))


@router.post(
    "/users/{user_id}/unlock",
    response=SecurityResetOut,
    summary="Lift a sign-in lock-out after repeated failures (administrators)",
)
def sign_in_unlock(request: HttpRequest, user_id: ObjectId) -> SecurityResetOut:
    admin = _require(request, "accounts.change_user", "Unlocking sign-in needs the administrator role.")
    person = selectors.user_get(user=request.user, pk=user_id, action="change")
    return SecurityResetOut(removed=services.sign_in_unlock(user=person, actor=admin))
