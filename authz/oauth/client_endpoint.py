"""What the back-channel endpoints (/oauth/token, /oauth/revoke, /oauth/introspect,
/oauth/par) share: rate limits, failed-authentication limits, well-formed parameters, and
RFC 6749 §5.2 error responses."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from accounts.throttle import client_address, per_address, too_many
from accounts.versions import CONFIGURATION, PERMISSIONS, Counter, round_trip

from .client_auth import claimed_client_id, uses_basic
from .client_limits import ClientFailureLimits
from .params import body_too_large, client_request_problem, form_from_json


def with_basic_challenge(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """RFC 6749 §5.2: a client that failed HTTP Basic authentication is challenged for Basic."""
    if response.status_code == 401 and uses_basic(request.headers.get("Authorization", "")):
        response["WWW-Authenticate"] = 'Basic realm="abc-identity", charset="UTF-8"'
    return response


class ClientEndpointMixin(View):
    """Checks shared by /oauth/token, /oauth/revoke and /oauth/introspect: rate limits per
    address, failed client authentications per client and per address (counted before the
    deliberately slow secret check runs), and well-formed parameters.

    These endpoints authenticate clients, not browser sessions, so they are exempt from
    CSRF (as DOT's own views are: overriding dispatch must keep that).
    """

    # Whether a JSON body is read as the form it stands for (the token endpoint only).
    accepts_json = False

    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        too_large = body_too_large(request)  # before anything reads request.POST
        if too_large:
            return token_error("invalid_request", too_large, status=413)
        if self.accepts_json and request.method == "POST" and request.content_type == "application/json":
            # Parsed before the limits, so that they count the client the body names.
            try:
                request.POST = form_from_json(request.body)  # type: ignore[assignment]  # the form it means
            except ValueError as error:
                return token_error("invalid_request", str(error))
        address, client_id = client_address(request), claimed_client_id(request)
        requests, failures = per_address(), ClientFailureLimits.from_settings()
        counted = requests.counter(address, incr=True)
        failed = failures.counters(client_id, address)
        # One round trip to the shared cache: this request counted, the failures read, and
        # the versions of what this process keeps copies of (clients, APIs, grants, rules).
        counters = [counter for counter in (counted, *failed) if counter is not None]
        with round_trip([CONFIGURATION, PERMISSIONS], counters) as values:
            counts: dict[Counter | None, int] = dict(zip(counters, values, strict=True))
            wait = requests.over(counted, counts.get(counted, 0)) or failures.wait_for(
                failed, [counts.get(counter, 0) for counter in failed]
            )
            if wait is not None:
                return too_many(
                    wait, token_error("temporarily_unavailable", f"Too many requests: retry in {wait} s.")
                )
            if request.method == "POST":
                problem = client_request_problem(request)
                if problem:
                    return token_error("invalid_request", problem)
            response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 401:
            failures.failed(client_id, address)
        return with_basic_challenge(request, response)


def token_error(error: str, description: str, status: int = 400) -> JsonResponse:
    """An RFC 6749 §5.2 error response."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
