from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Sign-in and audit")

    def ready(self):
        # The audit's receivers (sign-ins, failures, lock-outs, role changes) and the
        # production-settings checks (pressservice/checks.py).
        from accounts import audit  # noqa: F401
        from pressservice import checks  # noqa: F401
