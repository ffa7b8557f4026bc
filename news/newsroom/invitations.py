"""The newsroom's "Invite a colleague" page (for those who may add users) and the page where
the invited person sets their password (Django's password reset confirmation, reused)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from news import invitations

ROLE_CHOICES = [
    ("Authors", _("Press officer (Authors: writes and submits releases)")),
    ("Editors", _("Editor (Editors: reviews, publishes and withdraws releases)")),
]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"class": "vTextField"})
    )
    name_ru = forms.CharField(
        label=_("Name (Russian)"),
        max_length=300,
        help_text=_("As it signs releases, e.g. “Ольга Петрова”."),
        widget=forms.TextInput(attrs={"class": "vTextField", "lang": "ru"}),
    )
    name_en = forms.CharField(
        label=_("Name (English)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField", "lang": "en"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, widget=forms.RadioSelect)
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=[("ru", "Русский"), ("en", "English")],
        initial="ru",
    )


def invite_view(admin_site, request):
    if not request.user.has_perm("auth.add_user"):
        raise PermissionDenied
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.invite_colleague(**form.cleaned_data, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext("%(name)s is invited: a link to set a password was sent to %(email)s.")
                % {"name": user.get_full_name(), "email": user.email},
            )
            return redirect("admin:invite_colleague")
    context = {
        **admin_site.each_context(request),
        "title": gettext("Invite a colleague"),
        "form": form,
    }
    return TemplateResponse(request, "admin/invite_colleague.html", context)


class AcceptInvitationView(auth_views.PasswordResetConfirmView):
    """The invitation link: set a password (once; the token dies with the unusable password)."""

    success_url = reverse_lazy("admin:invitation_done")


class InvitationDoneView(auth_views.PasswordResetCompleteView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["login_url"] = reverse("admin:login")
        return context
