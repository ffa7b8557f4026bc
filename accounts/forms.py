from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Code"))
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return "".join(super().to_python(value).split()).lower()


class EnrolmentForm(forms.Form):
    code = CodeField(
        label=_("Code from the app"),
        help_text=_("The six digits your authenticator app shows now."),
    )

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the six digits the app shows."), code="format")
        return code


class SecondStepForm(forms.Form):
    """The second step of sign-in: six digits from the authenticator, or one recovery code.
    The device that checks the code is chosen by the code's shape, so a wrong code never counts
    against the other device's throttle."""

    code = CodeField(
        help_text=_("Six digits from your authenticator app, or one of your recovery codes.")
    )

    error_messages = {
        "wrong": _("That code is not right, or it was already used. Try the next code."),
        "throttled": _("Too many wrong codes: wait %(seconds)s seconds before the next try."),
    }

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean(self):
        code = self.cleaned_data.get("code")
        if not code:
            return self.cleaned_data
        model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
        device = model.objects.devices_for_user(self.user, confirmed=True).first()
        if device is not None:
            # The device row is locked while its code is checked and its counters (the last
            # code used, the throttle) are written: two requests with one code cannot both pass.
            with transaction.atomic():
                device = model.objects.select_for_update().get(pk=device.pk)
                allowed, extra = device.verify_is_allowed()
                if not allowed:
                    until = extra.get("locked_until") or timezone.now()
                    seconds = max(int((until - timezone.now()).total_seconds()) + 1, 1)
                    raise forms.ValidationError(
                        self.error_messages["throttled"],
                        code="throttled",
                        params={"seconds": seconds},
                    )
                if device.verify_token(code):
                    self.device = device
                    return self.cleaned_data
        raise forms.ValidationError(self.error_messages["wrong"], code="wrong")
