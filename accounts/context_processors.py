from accounts.second_factor import request_has_device


def second_factor(request):
    """`offer_second_factor` for the admin's header: a signed-in user without a second factor
    is offered to set one up (evaluated only where a template asks)."""

    def offer() -> bool:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and not request_has_device(request))

    return {"offer_second_factor": offer}
