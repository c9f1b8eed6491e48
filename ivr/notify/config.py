"""The outbox's configuration: `<state dir>/notify.yaml`, and the SMS gateway's secrets.

Every key is optional; with no file the sender still delivers e-mail (the SMTP
settings are the stack's) and leaves SMS and phone messages pending with the reason
"not configured". An example, for a form-posting gateway:

    sender:
      interval_s: 5          # how often the sender looks for due messages
      lease_s: 120           # how long a claimed message is one sender's alone
      first_delay_s: 30      # backoff: 30 s, 60 s, 120 s … up to max_delay_s
      backoff_factor: 2
      max_delay_s: 3600
      max_attempts: 8        # then the message is dead (`ivr outbox retry` revives it)
    sms:
      url: https://sms.example.com.tw/api/send
      method: POST
      body: form             # or json
      fields: {to: dstaddr, text: smbody, client_id: clientid}
      extra: {encoding: UTF8}  # fixed fields sent with every message
      credentials: fields    # or basic (HTTP Basic), or none
      username_field: username
      password_field: password
      accepted: "statuscode=[0-4]"  # optional: a 2xx whose body does not match failed
      timeout_s: 10
    phone:
      voice: cmn             # espeak-ng voice that reads the message
      ring_s: 30
      caller_id: "1999"
      # trunk: t-pstn        # default: directory.yaml's outbound_trunk

The SMS gateway's user name and password are never in this file: they come from
`$HOTLINE_SMS_USERNAME` / `$HOTLINE_SMS_PASSWORD`, or else from
`<state dir>/secrets/sms.yaml` (`username: …`, `password: …`), which must be mode
0600 (a file others can read is refused, as for the trunks' passwords).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from ivr.domain.outbox_policy import RetryPolicy
from ivr.errors import HotlineError
from ivr.routing.yaml_read import read_table

NOTIFY_FILE = "notify.yaml"
SMS_SECRETS_FILE = "sms.yaml"
ENV_USERNAME = "HOTLINE_SMS_USERNAME"
ENV_PASSWORD = "HOTLINE_SMS_PASSWORD"  # noqa: S105 - a variable's name


class NotifyConfigError(HotlineError):
    """The notification config is malformed; the message names the file and field."""

    code = "notify.config"


class BodyFormat(StrEnum):
    FORM = "form"
    JSON = "json"


class Credentials(StrEnum):
    NONE = "none"
    FIELDS = "fields"
    BASIC = "basic"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmsFields(_Strict):
    to: str = "to"
    text: str = "text"
    # The message's idempotency key goes here: the gateway drops a repeat (see
    # docs/notifications.md), which is what makes a resend after a crash safe.
    client_id: str = "client_id"


class SenderSettings(_Strict):
    interval_s: float = Field(default=5.0, gt=0)
    lease_s: float = Field(default=120.0, gt=0)
    first_delay_s: float = Field(default=30.0, ge=0)
    backoff_factor: float = Field(default=2.0, ge=1)
    max_delay_s: float = Field(default=3600.0, ge=0)
    max_attempts: int = Field(default=8, ge=1)
    batch: int = Field(default=20, ge=1)


class SmsSettings(_Strict):
    url: HttpUrl
    method: str = Field(default="POST", pattern="^(POST|PUT)$")
    body: BodyFormat = BodyFormat.FORM
    fields: SmsFields = Field(default_factory=SmsFields)
    extra: dict[str, str] = {}
    credentials: Credentials = Credentials.NONE
    username_field: str = "username"
    password_field: str = "password"  # noqa: S105 - a field's name
    accepted: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)


class PhoneSettings(_Strict):
    voice: str = Field(default="cmn", pattern=r"^[A-Za-z0-9_+-]{1,32}$")
    ring_s: int = Field(default=30, ge=5, le=120)
    caller_id: str = Field(default="1999", pattern=r"^[0-9]{1,20}$")
    trunk: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}$")


class NotifyFile(_Strict):
    sender: SenderSettings = Field(default_factory=SenderSettings)
    sms: SmsSettings | None = None
    phone: PhoneSettings = Field(default_factory=PhoneSettings)


@dataclass(frozen=True)
class SmsSecrets:
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class NotifyConfig:
    settings: NotifyFile
    sms_secrets: SmsSecrets

    @property
    def policy(self) -> RetryPolicy:
        s = self.settings.sender
        return RetryPolicy(
            first_delay=timedelta(seconds=s.first_delay_s),
            factor=s.backoff_factor,
            max_delay=timedelta(seconds=max(s.max_delay_s, s.first_delay_s)),
            max_attempts=s.max_attempts,
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.sender.lease_s)


def secrets_file(state_dir: Path) -> Path:
    return state_dir / "secrets" / SMS_SECRETS_FILE


def _read_yaml(path: Path) -> object:
    data, problems, _ = read_table(path)
    if problems:
        loc, reason = problems[0]
        where = ".".join(str(p) for p in loc)
        raise NotifyConfigError(f"{path}: {where + ': ' if where else ''}{reason}")
    return data


def read_sms_secrets(state_dir: Path, environ: Mapping[str, str] | None = None) -> SmsSecrets:
    env = os.environ if environ is None else environ
    if ENV_USERNAME in env or ENV_PASSWORD in env:
        return SmsSecrets(env.get(ENV_USERNAME, ""), env.get(ENV_PASSWORD, ""))
    path = secrets_file(state_dir)
    if not path.exists():
        return SmsSecrets()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise NotifyConfigError(
            f"{path}: mode {mode:04o} lets other users read the SMS password: chmod 600 {path}"
        )
    data = _read_yaml(path)
    if data is None:
        return SmsSecrets()
    if not isinstance(data, dict) or set(data) - {"username", "password"}:
        raise NotifyConfigError(f"{path}: expected only `username:` and `password:`")
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    if len(values) != len(data):
        raise NotifyConfigError(f'{path}: write both in quotes: password: "…"')
    return SmsSecrets(values.get("username", ""), values.get("password", ""))


def load(state_dir: Path, environ: Mapping[str, str] | None = None) -> NotifyConfig:
    """The stack's notification config; defaults for what the file does not say."""
    path = state_dir / NOTIFY_FILE
    data = _read_yaml(path) if path.exists() else None
    try:
        settings = NotifyFile.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NotifyConfigError(f"{path}: {where}: {first['msg']}") from exc
    secrets = read_sms_secrets(state_dir, environ)
    sms = settings.sms
    if sms is not None and sms.credentials is not Credentials.NONE and not secrets.password:
        raise NotifyConfigError(
            f"{path}: sms.credentials is {sms.credentials.value} but there is no password: "
            f"add it to {secrets_file(state_dir)} (mode 0600), or set {ENV_PASSWORD}"
        )
    return NotifyConfig(settings, secrets)
