"""Inviting a colleague to the newsroom: a staff account in a role group, an `Author` row for
their signature, and an e-mail with a one-time link to set a password (Django's password reset
token: it expires after PASSWORD_RESET_TIMEOUT and stops working once a password is set)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from news.models import LANGUAGES, Author
from news.roles import ROLES


def invitation_url(user: AbstractBaseUser) -> str:
    """The absolute one-time link where `user` sets their password."""
    path = reverse(
        "admin:invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def invite_colleague(
    *,
    email: str,
    name_ru: str,
    name_en: str = "",
    role: str,
    language: str = "ru",
    by: AbstractBaseUser,
) -> AbstractBaseUser:
    """Create a staff user (username = e-mail, no usable password) in the `role` group, with an
    `Author` row for their signature, and mail them the set-password link in `language`. Only
    for those who may add users; an address already in use is refused, nothing is written."""
    if not by.has_perm("auth.add_user"):
        raise PermissionDenied(_("You are not allowed to invite colleagues."))
    if role not in ROLES:
        raise ValidationError(_("Unknown role: %(role)s.") % {"role": role}, code="role")
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    users = get_user_model().objects
    if users.filter(email__iexact=email).exists() or users.filter(username=email).exists():
        raise ValidationError(
            _("Someone with the address %(email)s already has an account.") % {"email": email},
            code="taken",
        )
    name_ru, name_en = name_ru.strip(), name_en.strip()
    try:
        user = _create(email=email, name_ru=name_ru, name_en=name_en, role=role)
    except IntegrityError as error:  # a signature (or the address) taken meanwhile
        raise ValidationError(
            _("The signature “%(name)s” already belongs to another account.") % {"name": name_ru},
            code="signature",
        ) from error
    transaction.on_commit(lambda: send_invitation(user, language=language, by=by))
    return user


def _create(*, email: str, name_ru: str, name_en: str, role: str) -> AbstractBaseUser:
    users = get_user_model().objects
    with transaction.atomic():
        group = Group.objects.filter(name=role).first()
        if group is None:
            raise ValidationError(
                _("The role groups do not exist yet: run “manage.py setup_roles”."), code="roles"
            )
        first, _space, last = name_ru.partition(" ")
        user = users.create_user(
            username=email, email=email, first_name=first[:150], last_name=last[:150]
        )
        user.set_unusable_password()
        user.is_staff = True
        user.save()
        user.groups.add(group)
        author = Author.objects.filter(name_ru=name_ru, user__isnull=True).first()
        if author is None:
            if Author.objects.filter(name_ru=name_ru).exists():
                raise ValidationError(
                    _("The signature “%(name)s” already belongs to another account.")
                    % {"name": name_ru},
                    code="signature",
                )
            author = Author(name_ru=name_ru)
        author.name_en = name_en or author.name_en
        author.user = user
        author.save()
    return user


def send_invitation(user: AbstractBaseUser, *, language: str, by: AbstractBaseUser) -> int:
    context = {
        "user": user,
        "url": invitation_url(user),
        "inviter": by.get_full_name() or by.get_username(),
        "login_url": settings.SITE_URL + reverse("admin:login"),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    # Both languages, the chosen one first: a colleague may read either.
    subjects, bodies = [], []
    for version in dict.fromkeys([language, *LANGUAGES]):
        with translation.override(version):
            text = render_to_string("news/email/invitation_subject.txt", context)
            subjects.append(" ".join(text.split()))
            bodies.append(render_to_string("news/email/invitation_body.txt", context).strip())
    subject = " / ".join(subjects)
    return send_mail(
        subject, "\n\n———\n\n".join(bodies) + "\n", settings.DEFAULT_FROM_EMAIL, [user.email]
    )
