"""How fast the outbox drains: N SMS messages through a local HTTP gateway, on SQLite.

    .venv/bin/python -m bench.outbox [N]

Prints the time to enqueue N messages (with a replay of every enqueue, which must
add nothing) and the time for one sender to deliver them all. Never asserts.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ivr.domain.outbox_policy import RetryPolicy
from ivr.domain.vocabulary import NotifyChannel
from ivr.notify import enqueue
from ivr.notify.config import SmsSecrets, SmsSettings
from ivr.notify.sender import Sender
from ivr.notify.sms import SmsGateway
from ivr.store import CaseStore, default_sqlite_url
from ivr.store import outbox as box
from tests.notify.gateway import Gateway


async def main(n: int) -> None:
    gateway = Gateway(client_id_field="client_id")
    gateway.start()
    with tempfile.TemporaryDirectory() as tmp:
        store = await CaseStore.open(default_sqlite_url(Path(tmp) / "cases.db"))
        await store.migrate()
        now = datetime.now(UTC)
        start = time.perf_counter()
        for _ in range(2):
            for i in range(n):
                await enqueue(
                    store,
                    key=f"case:{i}:completion:sms",
                    channel=NotifyChannel.SMS,
                    recipient=f"0912{i:06d}",
                    body=f"您的案件 {i} 已處理完成",
                    purpose="completion",
                    at=now,
                )
        enqueued = time.perf_counter() - start
        sms = SmsGateway(SmsSettings.model_validate({"url": gateway.url}), SmsSecrets())
        sender = Sender(store, {NotifyChannel.SMS: sms}, lambda: datetime.now(UTC), RetryPolicy())
        start = time.perf_counter()
        await sender.run_once()
        sent = time.perf_counter() - start
        await sender.close()
        counts = await box.counts(store)
        await store.close()
    gateway.stop()
    print(
        f"enqueue {2 * n} (half replays): {enqueued:.2f} s, {enqueued / (2 * n) * 1000:.1f} ms each"
    )
    print(f"deliver {n}: {sent:.2f} s, {n / sent:.0f} messages/s; states {counts}")
    print(f"gateway requests {len(gateway.received)}, handset {len(gateway.handset)}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
