"""The admin asks for the second factor before anything else (after django-otp's
OTPMiddleware has marked whether this session verified one)."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from accounts.second_factor import is_required_for, request_has_device

# Reachable in the admin before the second step: signing in and out, and the step itself.
OPEN_ADMIN_URL_NAMES = ("admin:login", "admin:logout", "second_factor:verify",
                        "second_factor:enrol", "admin:jsi18n")  # fmt: skip


class SecondFactorMiddleware:
    """In the admin, a signed-in user who has a second factor but has not given it this session
    is sent to the second step; one who must have one and has none is sent to enrol. Nothing
    else in the admin answers them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path_info.startswith(reverse("admin:index"))
            and not user.is_verified()
            and request.path_info not in {reverse(name) for name in OPEN_ADMIN_URL_NAMES}
        ):
            if request_has_device(request):
                target = "second_factor:verify"
            elif is_required_for(user):
                target = "second_factor:enrol"
            else:
                return self.get_response(request)
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse(target) + (f"?{query}" if query else ""))
        return self.get_response(request)


class SessionActivityMiddleware:
    """A signed-in session ends after SESSION_IDLE_HOURS without a request (SESSION_COOKIE_AGE):
    each request moves its expiry on, writing the session at most once a minute rather than on
    every request as SESSION_SAVE_EVERY_REQUEST would. Requests without a session cookie (the
    public) are not looked at, so their pages do not vary on the cookie."""

    KEY = "_active_at"
    EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and (
            settings.SESSION_COOKIE_NAME in request.COOKIES or session.modified
        ):
            now = int(time.time())
            if "_auth_user_id" in session and session.get(self.KEY, 0) <= now - self.EVERY_SECONDS:
                session[self.KEY] = now
        return response
