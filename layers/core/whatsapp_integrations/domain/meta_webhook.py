"""Meta's webhook posts (meta-cloud-api.md A3, A4) as the relay reads them.

- The signature: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the exact raw body with the app secret.
- The split: Evolution 2.3.7 reads only `entry[0].changes[0]` of a post and only `messages[0]` of it, and crashes on
  a `contacts[]` entry without `profile`. So every change of every entry becomes posts of its own, one status or
  one message each, with the profiles filled in. Changes for another WABA or number are not relayed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from whatsapp_integrations.domain.errors import MalformedWebhook
from whatsapp_integrations.domain.message_status import MessageFailure, MessageStatus, normalise
from whatsapp_integrations.domain.text import storable, storable_text

SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="
OBJECT = "whatsapp_business_account"
# Fields Evolution consumes: messages (statuses and inbound messages), and template status updates, which it
# passes on to the template's own webhook.
_TEMPLATE_FIELD = "message_template_status_update"
MAX_UPDATES_PER_POST = 1000  # Meta batches up to 1,000 updates per POST (meta-cloud-api.md, webhooks)


def signature_matches(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    received = header.removeprefix(SIGNATURE_PREFIX).strip().lower()
    if not received.isascii():  # compare_digest takes only ASCII strings; no hex digest has anything else
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


@dataclass
class Split:
    """A Meta post as posts for Evolution, and what was left out (counted, never forwarded)."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    foreign: int = 0  # changes of another WABA or phone number
    not_relayed: int = 0  # changes Evolution does not consume (account, template quality, errors only, ...)


def split_for_evolution(payload: Any, *, waba_id: str, phone_number_id: str) -> Split:
    """Raises MalformedWebhook when `payload` is not a WhatsApp Business Account webhook at all."""
    if not isinstance(payload, dict) or payload.get("object") != OBJECT:
        raise MalformedWebhook(f"`object` is not {OBJECT}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedWebhook("`entry` is not a list")
    split = Split()
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            split.not_relayed += 1
            continue
        if str(entry.get("id")) != waba_id:
            split.foreign += len(changes)
            continue
        for change in changes:
            _split_change(change, waba_id, phone_number_id, split)
    if len(split.posts) > MAX_UPDATES_PER_POST:
        raise MalformedWebhook(f"more than {MAX_UPDATES_PER_POST} updates in one post; Meta sends at most that many")
    return split


def _split_change(change: Any, waba_id: str, phone_number_id: str, split: Split) -> None:
    value = change.get("value") if isinstance(change, dict) else None
    field_name = change.get("field") if isinstance(change, dict) else None
    if not isinstance(value, dict):
        split.not_relayed += 1
        return
    if field_name == _TEMPLATE_FIELD:
        split.posts.append(_post(waba_id, field_name, value))
        return
    if field_name != "messages":
        split.not_relayed += 1
        return
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or str(metadata.get("phone_number_id")) != phone_number_id:
        split.foreign += 1
        return
    base = {key: value[key] for key in ("messaging_product", "metadata") if key in value}
    contacts = [_with_profile(contact) for contact in value.get("contacts") or [] if isinstance(contact, dict)]
    relayed = 0
    for status in _dicts(value.get("statuses")):
        split.posts.append(_post(waba_id, "messages", {**base, **_contacts(contacts), "statuses": [status]}))
        relayed += 1
    for message in _dicts(value.get("messages")):
        sender = [contact for contact in contacts if contact.get("wa_id") == message.get("from")] or contacts[:1]
        split.posts.append(_post(waba_id, "messages", {**base, **_contacts(sender), "messages": [message]}))
        relayed += 1
    if not relayed:
        split.not_relayed += 1


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _contacts(contacts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"contacts": contacts} if contacts else {}


def _with_profile(contact: dict[str, Any]) -> dict[str, Any]:
    """Evolution reads contacts[0].profile.name and throws without it; Meta omits profile on some statuses."""
    profile = contact.get("profile")
    if isinstance(profile, dict) and isinstance(profile.get("name"), str):
        return contact
    return {**contact, "profile": {**(profile if isinstance(profile, dict) else {}), "name": ""}}


def _post(waba_id: str, field_name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"object": OBJECT, "entry": [{"id": waba_id, "changes": [{"field": field_name, "value": value}]}]}


@dataclass(frozen=True)
class MetaStatus:
    """One of Meta's own status reports, with what Evolution drops: the failure and the pricing."""

    wamid: str
    status: MessageStatus
    failure: MessageFailure | None
    pricing: dict[str, Any] | None


def statuses_of(post: Any) -> list[MetaStatus]:
    """The statuses of a relayed post (one change), read defensively; unknown or malformed ones are skipped."""
    try:
        value = post["entry"][0]["changes"][0]["value"]
    except (KeyError, IndexError, TypeError):
        return []
    reports = []
    for item in _dicts(value.get("statuses") if isinstance(value, dict) else None):
        wamid, reported = item.get("id"), item.get("status")
        status = normalise(reported) if isinstance(reported, str) else None
        if not isinstance(wamid, str) or not wamid or len(wamid) > 256 or not storable(wamid) or status is None:
            continue
        reports.append(MetaStatus(wamid, status, _failure(item.get("errors")), _pricing(item.get("pricing"))))
    return reports


def _failure(errors: Any) -> MessageFailure | None:
    first = _dicts(errors)[:1]
    if not first:
        return None
    error = first[0]
    data = error.get("error_data")
    code = error.get("code")
    return MessageFailure(
        code=code if isinstance(code, int) and not isinstance(code, bool) and 0 <= code < 2**31 else None,
        title=_text(error.get("title")),
        message=_text(error.get("message")),
        details=_text(data.get("details")) if isinstance(data, dict) else None,
    )


def _pricing(pricing: Any) -> dict[str, Any] | None:
    if not isinstance(pricing, dict):
        return None
    kept = {key: pricing[key] for key in ("category", "billable", "pricing_model", "type") if key in pricing}
    return {
        key: storable_text(value) if isinstance(value, str) else value
        for key, value in kept.items()
        if isinstance(value, str | bool)
    } or None


def _text(value: Any) -> str | None:
    return storable_text(value[:500]) if isinstance(value, str) and value else None
