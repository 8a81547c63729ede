"""The command line: ``python -m tools.timesheets_cli [options] <command>``."""

from __future__ import annotations

import argparse
import datetime
import sys
import webbrowser
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .api import ApiError, TimesheetsClient, week_of
from .device import device_login
from .dpop import DpopKey
from .flows import DEFAULT_SCOPE, Config, SignInNeeded, end_session_url, login, revoke
from .oidc import LoginError
from .store import DEFAULT_PATH, StateError, state_delete, state_load, state_save

DEFAULT_ISSUER = "http://127.0.0.1:8000"
DEFAULT_CLIENT_ID = "timesheets-mobile"
DEFAULT_AUDIENCE = "https://timesheets.abcinc.example/api"
USER_AGENT = "abc-timesheets-cli/1.0"
DESCRIPTION = "ABC Timesheets from the terminal: sign in, log time, list and submit your week."


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-02") from None


def _hours(value: str) -> str:
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of hours, like 7.5") from None
    if not Decimal(0) < hours <= Decimal(24) or hours % Decimal("0.25"):
        raise argparse.ArgumentTypeError(f"{value}: hours go in quarter hours, more than 0 and at most 24")
    return f"{hours:.2f}"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tools.timesheets_cli", description=DESCRIPTION)
    root.add_argument(
        "--issuer", default=DEFAULT_ISSUER, help=f"the OpenID provider (default {DEFAULT_ISSUER})"
    )
    root.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the native application's client id")
    root.add_argument("--audience", default=DEFAULT_AUDIENCE, help="the Timesheets API's identifier")
    root.add_argument("--api", help="the API's base URL (default: <issuer>/api)")
    root.add_argument("--scope", default=DEFAULT_SCOPE, help="the scopes to ask for at sign-in")
    root.add_argument(
        "--state-file", type=Path, default=DEFAULT_PATH, help=f"tokens (default {DEFAULT_PATH})"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="command")

    sign_in = commands.add_parser("login", help="sign in through the browser (PKCE, loopback redirect)")
    sign_in.add_argument(
        "--no-browser",
        "--print-url",
        dest="browser",
        action="store_false",
        help="print the URL, open nothing",
    )
    sign_in.add_argument("--timeout", type=float, default=300, help="seconds to wait for the browser")
    device = commands.add_parser(
        "device-login", help="sign in with a code typed on another device (RFC 8628)"
    )
    for command in (sign_in, device):
        command.add_argument("--dpop", action="store_true", help="bind the tokens to a new key (RFC 9449)")

    week = commands.add_parser("week", help="list my entries of a week")
    week.add_argument("--date", type=_date, default=None, help="a day of the week (default today)")
    log = commands.add_parser("log", help="log time (a draft)")
    log.add_argument("--date", type=_date, default=None, help="the day (default today)")
    log.add_argument("--hours", type=_hours, required=True, help="hours, in quarter hours (7.5)")
    log.add_argument("--project", required=True)
    log.add_argument("--description", default="", help="notes on the work")
    submit = commands.add_parser("submit", help="submit the week's drafts for approval")
    submit.add_argument("--date", type=_date, default=None, help="a day of the week (default today)")

    sign_out = commands.add_parser("logout", help="revoke the tokens and end the provider session")
    sign_out.add_argument("--no-browser", dest="browser", action="store_false", help="print the URL only")
    sign_out.add_argument("--post-logout-redirect-uri", help="a registered page to land on afterwards")
    return root


def _count(entries: list[dict[str, Any]]) -> str:
    return "1 entry" if len(entries) == 1 else f"{len(entries)} entries"


def _print_entries(entries: list[dict[str, Any]], out: TextIO) -> None:
    for entry in entries:
        notes = f"  {entry['notes']}" if entry.get("notes") else ""
        out.write(
            f"{entry['id']:>6}  {entry['date']}  {entry['hours']:>6}  {entry['status']:<9}  "
            f"{entry['project']}{notes}\n"
        )
    total = sum(Decimal(entry["hours"]) for entry in entries)
    out.write(f"{_count(entries)}, {total} hours\n")


def _show_url(browser: bool, out: TextIO) -> Callable[[str], None]:
    def show(url: str) -> None:
        if browser and webbrowser.open(url):
            out.write(f"Your browser has been opened to sign in. If it did not, open:\n{url}\n")
        else:
            out.write(f"Open this address in a browser to sign in:\n{url}\n")
        out.flush()

    return show


def _show_code(out: TextIO) -> Callable[[dict[str, Any]], None]:
    def show(authorization: dict[str, Any]) -> None:
        out.write(f"On another device, open {authorization['verification_uri']}\n")
        out.write(f"and enter the code {authorization['user_code']}\n")
        if authorization.get("verification_uri_complete"):
            out.write(f"(or open {authorization['verification_uri_complete']})\n")
        out.flush()

    return show


def _logout(config: Config, http: requests.Session, args: argparse.Namespace, out: TextIO) -> None:
    state = state_load(config.state_path)
    if not state:
        out.write("You are not signed in.\n")
        return
    try:
        revoked = revoke(config, http, state)
    except requests.RequestException as error:
        revoked = False
        out.write(f"The refresh token could not be revoked ({error}); it is forgotten here anyway.\n")
    state_delete(config.state_path)
    out.write("Refresh token revoked; tokens deleted.\n" if revoked else "Tokens deleted.\n")
    url = end_session_url(state, post_logout_redirect_uri=args.post_logout_redirect_uri)
    if url and not (args.browser and webbrowser.open(url)):
        out.write(f"To end your session at the provider too, open:\n{url}\n")


def run(args: argparse.Namespace, http: requests.Session, out: TextIO) -> None:
    config = Config(
        issuer=args.issuer.rstrip("/"),
        client_id=args.client_id,
        audience=args.audience,
        api=args.api or f"{args.issuer.rstrip('/')}/api",
        scope=args.scope,
        state_path=args.state_file.expanduser(),
    )
    today = datetime.date.today()
    if args.command == "login":
        dpop = DpopKey.generate() if args.dpop else None
        state = login(config, http, show=_show_url(args.browser, out), timeout=args.timeout, dpop=dpop)
        state_save(config.state_path, state)
        out.write(f"Signed in as {state.get('email') or state.get('subject')}.\n")
    elif args.command == "device-login":
        state = device_login(
            config, http, show=_show_code(out), dpop=DpopKey.generate() if args.dpop else None
        )
        state_save(config.state_path, state)
        out.write(f"Signed in as {state.get('email') or state.get('subject')}.\n")
    elif args.command == "logout":
        _logout(config, http, args, out)
    elif args.command == "week":
        entries = TimesheetsClient(config, http).week(args.date or today)
        monday, sunday = week_of(args.date or today)
        out.write(f"Week of {monday} to {sunday}\n")
        _print_entries(entries, out)
    elif args.command == "log":
        entry = TimesheetsClient(config, http).log(
            date=args.date or today, hours=args.hours, project=args.project, notes=args.description
        )
        out.write(
            f"Logged {entry['hours']} hours on {entry['date']} to {entry['project']} (entry {entry['id']}).\n"
        )
    elif args.command == "submit":
        submitted = TimesheetsClient(config, http).submit_week(args.date or today)
        out.write(f"Submitted {_count(submitted)}.\n" if submitted else "Nothing to submit.\n")


def session() -> requests.Session:
    """HTTP for every call. A read answered 502-504 (the server's own answer when its database
    is briefly unavailable: "retry") is tried again after a short pause; a POST never is,
    since an authorization code or a refresh token is good for one use only."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    retry = Retry(
        total=3,
        status_forcelist=[502, 503, 504],
        allowed_methods=frozenset({"GET"}),
        backoff_factor=0.25,
        raise_on_status=False,
    )
    http.mount("http://", HTTPAdapter(max_retries=retry))
    http.mount("https://", HTTPAdapter(max_retries=retry))
    return http


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; 0 on success, 1 on an error, 2 when the person must sign in (again)."""
    args = parser().parse_args(argv)
    out = out or sys.stdout
    http = session()
    try:
        run(args, http, out)
    except SignInNeeded as error:
        print(error, file=sys.stderr)
        return 2
    except (LoginError, ApiError, StateError, requests.RequestException) as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        http.close()
    return 0
