"""Notices to partners: each state change of their orders, POSTed and signed with HMAC-SHA256.

The body is JSON; the header `X-CAS-Signature: t=<unix time>,v1=<hex>` carries the HMAC-SHA256
of "<unix time>.<body>" under the secret the partner registered, so the partner can check
who sent it and refuse a replay. Any answer but 2xx is retried with the queue's back-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy.orm import Session

from activation.services import Services
from activation.store.models import Activity
from activation.store.orders import NotificationTarget, Order

TIMEOUT = 10.0  # seconds the partner has to answer


class NoticeRefused(Exception):
    """The partner's URL did not take the notice; it is sent again later."""


@dataclass(frozen=True)
class Notice:
    url: str
    secret: str
    body: bytes


def signature(secret: str, stamp: int, body: bytes) -> str:
    """The value of X-CAS-Signature for a body sent at a time."""
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


class OrderNotice:
    """Tell a partner an order's new state."""

    awaits_report: timedelta | None = None

    def prepare(self, session: Session, activity: Activity, services: Services) -> Any:
        target = session.get_one(NotificationTarget, activity.payload["target_id"])
        order = session.get(Order, activity.order_id)
        body = {
            "event": "orderStateChange",
            "order": activity.payload["order"],
            "type": order.type if order else None,
            "state": activity.payload["state"],
            "mid": order.mid if order else None,
            "at": activity.payload["at"],
        }
        encoded = json.dumps(body, separators=(",", ":")).encode()
        return Notice(target.url, services.vault.decrypt(target.secret_encrypted), encoded)

    def perform(self, work: Any, attempt: int, services: Services) -> dict[str, Any]:
        stamp = int(time.time())
        try:
            reply = requests.post(
                work.url,
                data=work.body,
                headers={
                    "Content-Type": "application/json",
                    "X-CAS-Signature": signature(work.secret, stamp, work.body),
                },
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise NoticeRefused(f"not reached: {type(exc).__name__}") from exc
        if not 200 <= reply.status_code < 300:
            raise NoticeRefused(f"answered {reply.status_code}")
        return {"outcome": "delivered", "status": reply.status_code}

    def apply(
        self, session: Session, activity: Activity, result: dict[str, Any], services: Services
    ) -> None:
        return None
