from accounts.second_factor import has_device


def second_factor(request):
    """`offer_second_factor` for the admin's header: a signed-in user without a second factor
    is offered to set one up (evaluated only where a template asks)."""
    user = getattr(request, "user", None)

    def offer() -> bool:
        return bool(user is not None and user.is_authenticated and not has_device(user))

    return {"offer_second_factor": offer}
