"""Schemathesis hooks for scripts/schemathesis.sh: bearer tokens, live credentials.

Loaded through SCHEMATHESIS_HOOKS=schemathesis_hooks (scripts/ on PYTHONPATH). The server,
its API key and its mail outbox come from ST_BASE_URL, ST_API_KEY and ST_OUTBOX.

Most bearer routes share one account's access token, registered once. The routes that end
the caller's session or account (POST /logout, DELETE /me, POST /password) get a new account
for every generated case instead (a full account and a guest in turn; the password change
always a full account), so they never take the
token away from the cases that follow, and every one of their cases runs against a live
session (204 / 200 paths included), not against an already revoked token. POST /guest/upgrade
gets a new guest per case.

Random data never matches a real password or mailed token, so `before_call` below gives every
second positive case of the routes that need one live values, and their success answers are
checked too.
"""

import json
import os
import urllib.error
import urllib.request
import uuid

import schemathesis
import yaml

BASE_URL = os.environ["ST_BASE_URL"]
API_KEY = os.environ["ST_API_KEY"]
OUTBOX = os.environ["ST_OUTBOX"]
PASSWORD = "schemathesis-Run-" + uuid.uuid4().hex[:12]

# The bearer routes (security: ApiKey + Bearer in openapi.yaml).
SHARED = ["getMe", "updateMe", "listSessions", "deleteSession", "requestVerification"]
DESTRUCTIVE = ["logout", "deleteMe", "changePassword"]
GUEST_ONLY = ["guestUpgrade"]


def bearer_operations() -> set[str]:
    """The operationIds whose security asks for Bearer (run from the repository root)."""
    with open("openapi.yaml") as file:
        spec = yaml.safe_load(file)
    found = set()
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and any("Bearer" in r for r in operation.get("security", spec["security"])):
                found.add(operation["operationId"])
    return found


# A bearer route missing here would only ever be sent without a token: refuse to run.
if bearer_operations() != set(SHARED + DESTRUCTIVE + GUEST_ONLY):
    raise RuntimeError(f"schemathesis_hooks: the bearer routes of openapi.yaml are {sorted(bearer_operations())}")


def call(route: str, body: dict, token: str | None = None, expect: int = 201) -> dict | None:
    """POSTs a route outside the run (not checked here); its JSON answer, if any."""
    headers = {"content-type": "application/json", "x-api-key": API_KEY}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/auth/{route}", data=json.dumps(body).encode(), method="POST", headers=headers
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != expect:
            raise RuntimeError(f"{route} answered {response.status}")
        raw = response.read()
        return json.loads(raw) if raw else None


def post(route: str, body: dict) -> str:
    """POSTs a key route that answers 201 TokenResponse; its access token."""
    return call(route, body)["access_token"]


def new_account() -> tuple[str, str]:
    """A new full account (username + email): its username and access token."""
    name = "st" + uuid.uuid4().hex[:16]
    token = post("register", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return name, token


def register() -> str:
    """A new full account's access token."""
    return new_account()[1]


def mailed_token(to: str, page: str) -> str:
    """The token of the newest `page` link mailed to `to` (the local outbox)."""
    for name in sorted(os.listdir(OUTBOX), reverse=True):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(OUTBOX, name)) as file:
            mail = json.load(file)
        marker = f"/{page}?token="
        if mail["to"] == to and marker in mail["text"]:
            return mail["text"].split(marker, 1)[1].split()[0]
    raise RuntimeError(f"no {page} mail to {to}")


def alive(token: str) -> bool:
    """Whether the token's session is still live (GET /me answers 200)."""
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/auth/me", headers={"authorization": f"Bearer {token}", "x-api-key": API_KEY}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return False


def guest() -> str:
    """A new guest (a device never seen before)."""
    return post("guest", {"device_id": "schemathesis-" + uuid.uuid4().hex})


def set_bearer(case, token: str) -> None:
    case.headers = case.headers or {}
    case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.auth(refresh_interval=None).apply_to(operation_id=SHARED)
class SharedAccount:
    """One account for the routes that leave the session alive, replaced when its session
    has ended: schemathesis reuses values it saw in responses, so DELETE /sessions/{id} ends
    the shared session itself now and then (its 204 path)."""

    token = None

    def get(self, case, context):
        if SharedAccount.token is None or not alive(SharedAccount.token):
            SharedAccount.token = register()
        return SharedAccount.token

    def set(self, case, data, context):
        set_bearer(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(operation_id=DESTRUCTIVE)
class FreshAccount:
    """A new account per case for the routes that end the session or the account: a full
    account and a guest in turn (a guest deletes itself without a password), always a full
    account for the password change."""

    count = 0

    def get(self, case, context):
        # A guest has no password to change: POST /password would only ever answer it 403.
        if case.operation.definition.raw.get("operationId") == "changePassword":
            return register()
        FreshAccount.count += 1
        return guest() if FreshAccount.count % 2 == 0 else register()

    def set(self, case, data, context):
        set_bearer(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(operation_id=GUEST_ONLY)
class FreshGuest:
    """A new guest per case for the upgrade, which ends the guest's sessions (a full
    account would only ever get 409 not_guest)."""

    def get(self, case, context):
        return guest()

    def set(self, case, data, context):
        set_bearer(case, data)


# Generated values almost never hit a real credential or token, so the success answers of
# these routes would go unchecked. Every second positive case of each gets live values instead
# (the rest of its generated body is kept); negative cases are left as generated.
LIVE = {"register", "login", "verify", "updateMe", "deleteMe", "changePassword", "verifyEmail", "resetPassword"}
seen: dict[str, int] = {}
login_account: list[str] = []


def live_values(operation_id: str) -> dict:
    if operation_id == "register":
        # Fresh names and a password the strength rules accept.
        name = "st" + uuid.uuid4().hex[:16]
        return {"username": name, "email": f"{name}@example.com", "password": PASSWORD, "password_confirmation": None}
    if operation_id == "login":
        if not login_account:
            login_account.append(new_account()[0])
        return {"username": login_account[0], "email": None, "password": PASSWORD}
    if operation_id == "verify":
        return {"token": register()}
    if operation_id == "changePassword":
        return {"current_password": PASSWORD, "new_password": PASSWORD + "-changed"}
    if operation_id in ("updateMe", "deleteMe"):
        # The bearer account's password (a guest's case then answers as documented).
        return {"password" if operation_id == "deleteMe" else "current_password": PASSWORD}
    name, token = new_account()
    email = f"{name}@example.com"
    if operation_id == "verifyEmail":
        call("email/verification", {}, token, expect=202)
        return {"token": mailed_token(email, "verify-email")}
    call("password/forgot", {"email": email}, expect=202)
    return {"token": mailed_token(email, "reset-password")}


@schemathesis.hook
def before_call(context, case, kwargs):
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id not in LIVE or not isinstance(case.body, dict):
        return
    if case.meta is None or case.meta.generation.mode != "positive":
        return
    seen[operation_id] = seen.get(operation_id, 0) + 1
    if seen[operation_id] % 2 == 0:
        case.body = {**case.body, **live_values(operation_id)}
