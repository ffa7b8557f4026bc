"""The two pages of the second step: enrolling an authenticator, and giving a code."""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import admin
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from accounts import second_factor
from accounts.forms import EnrolmentForm, SecondStepForm


class SecondFactorPage(LoginRequiredMixin, FormView):
    login_url = reverse_lazy("admin:login")

    def next_url(self):
        url = self.request.POST.get("next") or self.request.GET.get("next") or ""
        allowed = url_has_allowed_host_and_scheme(
            url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        )
        return url if allowed else reverse("admin:index")

    def get_context_data(self, **kwargs):
        return {
            **admin.site.each_context(self.request),
            "title": self.title,
            "next": self.next_url(),
            **super().get_context_data(**kwargs),
        }


class EnrolView(SecondFactorPage):
    """Enrol an authenticator app: scan the QR code (or type the secret), confirm with the first
    code; the recovery codes are shown once, on the answer to that confirmation."""

    template_name = "accounts/enrol.html"
    form_class = EnrolmentForm
    title = _("Set up two-step sign-in")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and second_factor.has_device(request.user):
            return redirect(self.next_url())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        device = second_factor.pending_totp_device(self.request.user)
        return super().get_context_data(
            qr_code=second_factor.qr_code_svg(device),
            secret=second_factor.secret_for_typing(device),
            required=second_factor.is_required_for(self.request.user),
            **kwargs,
        )

    def form_valid(self, form):
        device = second_factor.pending_totp_device(self.request.user)
        codes = second_factor.confirm_enrolment(self.request, device, form.cleaned_data["code"])
        if codes is None:
            form.add_error("code", _("That code is not right. Enter the code the app shows now."))
            return self.form_invalid(form)
        # The page of the codes, without the enrolment's QR code (and its pending device).
        context = super().get_context_data(form=form)
        context.update(title=_("Your recovery codes"), recovery_codes=codes)
        response = render(self.request, "accounts/recovery_codes.html", context)
        response["Cache-Control"] = "no-store"
        return response


class VerifyView(SecondFactorPage):
    """The second step of sign-in. Wrong codes count as failed sign-ins for django-axes, so an
    account or address that keeps guessing is locked out like one guessing passwords."""

    template_name = "accounts/verify.html"
    form_class = SecondStepForm
    title = _("Two-step sign-in")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if request.user.is_verified():
                return redirect(self.next_url())
            if not second_factor.has_device(request.user):
                return redirect(f"{reverse('second_factor:enrol')}?next={self.next_url()}")
            credentials = {"username": request.user.get_username()}
            if request.method == "POST" and AxesProxyHandler.is_locked(request, credentials):
                return get_lockout_response(request, None, credentials)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        second_factor.second_step_passed(self.request, form.device)
        return redirect(self.next_url())

    def form_invalid(self, form):
        if form.has_error("__all__", "wrong"):
            second_factor.second_step_failed(self.request)
        return super().form_invalid(form)
