"""SMS over an HTTP gateway: one POST (form or JSON) per message, fields from config.

Taiwanese gateways take the destination, the text and a client message id in fields
of their own naming; `notify.yaml` says which. The message's idempotency key goes in
the client id field, so a gateway that already took a message drops the repeat a
crashed sender makes (see docs/notifications.md).

How an answer is read:
- 2xx: accepted (if `accepted` is set, the body must match it too, or it failed);
- 408, 425, 429 and 5xx, timeouts and refused connections: try again later;
- any other 4xx: refused for good (bad number, bad credentials, bad request).
Nothing logged here carries the text or the full number.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import structlog

from ivr.domain.masking import mask_number
from ivr.domain.screening import normalise_number
from ivr.notify.config import BodyFormat, Credentials, SmsSecrets, SmsSettings
from ivr.notify.transport import PermanentFailure, TemporaryFailure
from ivr.store.outbox import MessageRecord

log = structlog.get_logger(__name__)

# A Taiwan mobile number: SMS goes to mobiles only.
_MOBILE = re.compile(r"^09[0-9]{8}$")
_RETRYABLE_4XX = frozenset({408, 425, 429})
_DETAIL_CHARS = 200


def mobile_number(recipient: str) -> str | None:
    number = normalise_number(recipient)
    return number if _MOBILE.fullmatch(number) else None


class SmsGateway:
    def __init__(self, settings: SmsSettings, secrets: SmsSecrets) -> None:
        self._settings = settings
        self._secrets = secrets
        self._accepted = re.compile(settings.accepted) if settings.accepted else None
        # One client for every message: building one loads the CA bundle, which costs
        # more than the request itself.
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _request(self, to: str, message: MessageRecord) -> dict[str, Any]:
        s = self._settings
        fields: dict[str, str] = dict(s.extra)
        fields[s.fields.to] = to
        fields[s.fields.text] = message.body
        fields[s.fields.client_id] = message.key
        auth: httpx.BasicAuth | None = None
        if s.credentials is Credentials.FIELDS:
            fields[s.username_field] = self._secrets.username
            fields[s.password_field] = self._secrets.password
        elif s.credentials is Credentials.BASIC:
            auth = httpx.BasicAuth(self._secrets.username, self._secrets.password)
        body: dict[str, Any] = {"json": fields} if s.body is BodyFormat.JSON else {"data": fields}
        return {"method": s.method, "url": str(s.url), "auth": auth, **body}

    async def send(self, message: MessageRecord) -> str:
        to = mobile_number(message.recipient)
        if to is None:
            raise PermanentFailure(
                f"{mask_number(message.recipient)} is not a Taiwan mobile number"
            )
        request = self._request(to, message)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._settings.timeout_s)
        try:
            reply = await self._client.request(**request)
        except httpx.TimeoutException as exc:
            # The gateway may have taken it: the retry carries the same client id.
            raise TemporaryFailure(f"gateway timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"gateway unreachable: {type(exc).__name__}: {exc}") from exc
        text = reply.text[:_DETAIL_CHARS]
        status = reply.status_code
        detail = f"HTTP {status} {text}".strip()
        if 200 <= status < 300:
            if self._accepted is not None and not self._accepted.search(reply.text):
                raise TemporaryFailure(f"gateway answered without accepting: {detail}")
            log.info("sms_sent", to=mask_number(to), message=message.id, status=status)
            return detail
        if 400 <= status < 500 and status not in _RETRYABLE_4XX:
            raise PermanentFailure(f"gateway refused: {detail}")
        raise TemporaryFailure(f"gateway failed: {detail}")
