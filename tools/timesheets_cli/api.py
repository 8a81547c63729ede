"""The Timesheets API as the app calls it: every call carries a live access token, refreshed
(and the rotated refresh token saved) before it expires or when the API says it is invalid."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from .dpop import DpopKey, use_dpop_nonce
from .flows import Config, SignInNeeded, refresh, token_fresh
from .oidc import TIMEOUT
from .store import state_load, state_save


class ApiError(Exception):
    """The API refused the call; the message is the API's own explanation."""


def week_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of ``day``'s week."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def _explain(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error_description")
        if detail:
            return str(detail)
        return "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in body.items())
    return str(body)


class TimesheetsClient:
    """Calls to ``{api}/timesheets…`` for the person whose tokens are in the state file."""

    def __init__(self, config: Config, http: requests.Session) -> None:
        self.config = config
        self.http = http
        state = state_load(config.state_path)
        if not state or not state.get("token"):
            raise SignInNeeded("You are not signed in: run `login` (or `device-login`) first.")
        self.state: dict[str, Any] = state
        self.dpop = DpopKey.from_state(state["dpop_key"]) if state.get("dpop_key") else None
        self.authorize: Callable[[requests.PreparedRequest], None] = self._bearer
        if self.dpop is not None:
            http.hooks["response"].append(self.dpop.remember_nonce)
            self.authorize = self._dpop

    @property
    def path(self) -> Path:
        return self.config.state_path

    def _bearer(self, request: requests.PreparedRequest) -> None:
        request.headers["Authorization"] = f"Bearer {self.state['token']['access_token']}"

    def _dpop(self, request: requests.PreparedRequest) -> None:
        """RFC 9449 §7.1: the ``DPoP`` scheme, and a proof of this request with the token's hash."""
        if self.dpop is None or request.method is None or request.url is None:
            raise SignInNeeded(
                "The tokens are bound to a DPoP key this state file lacks: run `login --dpop`."
            )
        access_token = self.state["token"]["access_token"]
        request.headers["Authorization"] = f"DPoP {access_token}"
        request.headers["DPoP"] = self.dpop.proof(request.method, request.url, access_token=access_token)

    def _refresh(self) -> None:
        self.state = refresh(self.config, self.http, self.state, self.dpop)
        state_save(self.path, self.state)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One API call: refresh first if the token is about to expire, and once more if the
        API answers 401 ``invalid_token`` (revoked or expired early); with DPoP, once more with
        the server's nonce when it asks for one. Other errors raise."""
        if not token_fresh(self.state["token"]):
            self._refresh()
        url = path if path.startswith("http") else f"{self.config.api.rstrip('/')}/{path.lstrip('/')}"
        refreshed = nonce_retried = False
        while True:
            # The session's hooks (the DPoP nonce) and headers apply to a request it prepares.
            request = self.http.prepare_request(requests.Request(method, url, **kwargs))
            self.authorize(request)
            response = self.http.send(request, timeout=TIMEOUT)
            if use_dpop_nonce(response) and not nonce_retried:
                nonce_retried = True  # the response hook has kept the nonce the API sent
                continue
            challenge = response.headers.get("WWW-Authenticate", "")
            if response.status_code == 401 and 'error="invalid_token"' in challenge and not refreshed:
                refreshed = True
                self._refresh()
                continue
            if response.status_code >= 400:
                raise ApiError(f"{method} {path}: {_explain(response)}")
            return response

    def week(self, day: datetime.date) -> list[dict[str, Any]]:
        """The person's entries in ``day``'s week, every page."""
        monday, sunday = week_of(day)
        entries: list[dict[str, Any]] = []
        url: str | None = "timesheets"
        params: dict[str, Any] | None = {"date_from": monday.isoformat(), "date_to": sunday.isoformat()}
        while url:
            page = self.call("GET", url, params=params).json()
            entries.extend(page["results"])
            url, params = page.get("next"), None
        return sorted(entries, key=lambda entry: (entry["date"], entry["id"]))

    def log(self, *, date: datetime.date, hours: str, project: str, notes: str) -> dict[str, Any]:
        payload = {"date": date.isoformat(), "hours": hours, "project": project, "notes": notes}
        return self.call("POST", "timesheets", json=payload).json()

    def submit_week(self, day: datetime.date) -> list[dict[str, Any]]:
        """Submit every draft of ``day``'s week; the entries as submitted."""
        drafts = [entry for entry in self.week(day) if entry["status"] == "draft"]
        return [self.call("POST", f"timesheets/{entry['id']}/submit").json() for entry in drafts]
