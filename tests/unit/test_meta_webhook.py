"""Meta's webhook posts as the relay reads them: the signature over the raw bytes, and the split for Evolution."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from whatsapp_integrations.domain.errors import MalformedWebhook
from whatsapp_integrations.domain.message_status import MessageStatus
from whatsapp_integrations.domain.meta_webhook import (
    MAX_UPDATES_PER_POST,
    signature_matches,
    split_for_evolution,
    statuses_of,
)

SECRET = "demo-app-secret-0123456789abcdef"
WABA, PHONE = "200000000000001", "100000000000001"


def sign(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def change(*, phone: str = PHONE, **value: Any) -> dict[str, Any]:
    metadata = {"display_phone_number": "15550100001", "phone_number_id": phone}
    return {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": metadata, **value}}


def post(*changes: dict[str, Any], waba: str = WABA) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": waba, "changes": list(changes)}]}


STATUS = {"id": "wamid.A", "status": "delivered", "timestamp": "1795921700", "recipient_id": "5511999990000"}

# ------------------------------------------------------------------------------------------------------ signature

# Meta escapes "/" and non-ASCII; re-serialising the parsed body gives other bytes.
RAW = b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"text":"caf\\u00e9 \\/x"}}]}]}'


def test_the_signature_over_the_exact_bytes_is_accepted() -> None:
    assert signature_matches(RAW, sign(RAW), SECRET)


@pytest.mark.parametrize(
    ("case", "raw", "header"),
    [
        ("another app's secret", RAW, sign(RAW, "another-secret-000000000000000000")),
        ("no header", RAW, None),
        ("a header without the sha256= prefix", RAW, sign(RAW).removeprefix("sha256=")),
        ("one byte of the body changed", RAW.replace(b'"1"', b'"2"'), sign(RAW)),
        ("the JSON re-serialised", json.dumps(json.loads(RAW)).encode(), sign(RAW)),
        ("the body signed, then re-serialised and signed by us", RAW, sign(json.dumps(json.loads(RAW)).encode())),
        ("a signature that is not ASCII", RAW, "sha256=\u00e9"),
    ],
)
def test_anything_but_the_signature_of_the_exact_bytes_is_refused(case: str, raw: bytes, header: str | None) -> None:
    assert not signature_matches(raw, header, SECRET), case


# ------------------------------------------------------------------------------------------------------ split


def test_every_change_and_every_status_or_message_becomes_a_post_of_its_own() -> None:
    # Given a post with two changes: two statuses, and two inbound messages from two contacts
    contacts = [{"wa_id": "5511", "profile": {"name": "Ana"}}, {"wa_id": "5522", "profile": {"name": "Bia"}}]
    messages = [
        {"from": "5522", "id": "wamid.M1", "type": "text", "text": {"body": "oi"}},
        {"from": "5511", "id": "wamid.M2", "type": "text", "text": {"body": "olá"}},
    ]
    statuses = [STATUS, {**STATUS, "id": "wamid.B", "status": "read"}]
    payload = post(change(statuses=statuses), change(contacts=contacts, messages=messages))
    # When it is split
    split = split_for_evolution(payload, waba_id=WABA, phone_number_id=PHONE)
    # Then there are four posts of one change, each with one status or one message (and its sender's contact)
    values = [item["entry"][0]["changes"][0]["value"] for item in split.posts]
    assert all(len(item["entry"]) == 1 and len(item["entry"][0]["changes"]) == 1 for item in split.posts)
    assert [value.get("statuses", [{}])[0].get("id") for value in values[:2]] == ["wamid.A", "wamid.B"]
    assert [(value["messages"][0]["id"], value["contacts"][0]["wa_id"]) for value in values[2:]] == [
        ("wamid.M1", "5522"),
        ("wamid.M2", "5511"),
    ]
    assert (split.foreign, split.not_relayed) == (0, 0)


def test_a_contact_without_profile_gets_one() -> None:
    payload = post(change(contacts=[{"wa_id": "5511999990000"}], statuses=[STATUS]))
    [relayed] = split_for_evolution(payload, waba_id=WABA, phone_number_id=PHONE).posts
    assert relayed["entry"][0]["changes"][0]["value"]["contacts"] == [
        {"wa_id": "5511999990000", "profile": {"name": ""}}
    ]


def test_changes_of_another_waba_or_number_are_not_relayed() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA, "changes": [change(statuses=[STATUS]), change(phone="100000000000002", statuses=[STATUS])]},
            {"id": "200000000000099", "changes": [change(statuses=[STATUS])]},
        ],
    }
    split = split_for_evolution(payload, waba_id=WABA, phone_number_id=PHONE)
    assert (len(split.posts), split.foreign) == (1, 2)


def test_template_updates_are_relayed_and_fields_evolution_ignores_are_not() -> None:
    template = {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1}}
    account = {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}
    errors_only = change(errors=[{"code": 131000, "title": "Something went wrong"}])
    split = split_for_evolution(post(template, account, errors_only), waba_id=WABA, phone_number_id=PHONE)
    assert [item["entry"][0]["changes"][0]["field"] for item in split.posts] == ["message_template_status_update"]
    assert split.not_relayed == 2


@pytest.mark.parametrize(
    "payload", [[], "text", {"object": "page", "entry": []}, {"object": "whatsapp_business_account", "entry": {}}]
)
def test_what_is_not_a_whatsapp_business_account_webhook_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedWebhook):
        split_for_evolution(payload, waba_id=WABA, phone_number_id=PHONE)


def test_malformed_entries_and_changes_are_counted_not_fatal() -> None:
    payload = {"object": "whatsapp_business_account", "entry": [7, {"id": WABA, "changes": [None, {"field": 3}]}]}
    split = split_for_evolution(payload, waba_id=WABA, phone_number_id=PHONE)
    assert (split.posts, split.not_relayed) == ([], 3)


# ------------------------------------------------------------------------------------------------------ statuses


def test_a_failed_status_keeps_what_evolution_drops() -> None:
    failed = {
        **STATUS,
        "status": "failed",
        "pricing": {"billable": False, "pricing_model": "PMP", "type": "regular", "category": "utility", "x": [1]},
        "errors": [
            {"code": 131047, "title": "Re-engagement message", "message": "m", "error_data": {"details": "24 h"}}
        ],
    }
    [status] = statuses_of(post(change(statuses=[failed])))
    assert status.status == MessageStatus.FAILED and status.wamid == "wamid.A"
    assert status.failure is not None
    assert (status.failure.code, status.failure.title, status.failure.details) == (
        131047,
        "Re-engagement message",
        "24 h",
    )
    assert status.pricing == {"billable": False, "pricing_model": "PMP", "type": "regular", "category": "utility"}


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "delivered"},
        {"id": "", "status": "sent"},
        {"id": "w" * 300, "status": "sent"},
        {"id": "w", "status": 3},
        {"id": "wamid.\x00", "status": "sent"},
        {"id": "wamid.\ud800", "status": "sent"},
    ],
)
def test_statuses_without_a_usable_wamid_or_status_are_skipped(bad: dict[str, Any]) -> None:
    assert statuses_of(post(change(statuses=[bad, STATUS])))[0].wamid == "wamid.A"
    assert len(statuses_of(post(change(statuses=[bad])))) == 0


def test_text_postgresql_cannot_store_is_kept_with_those_characters_replaced() -> None:
    # Given a signed failure whose texts carry a NUL and a lone surrogate, as JSON's \u escapes can
    failed = {
        **STATUS,
        "status": "failed",
        "pricing": {"category": "utility\x00"},
        "errors": [{"code": 131026, "title": "a\x00b", "message": "c\ud800d", "error_data": {"details": "\udfff"}}],
    }
    # When its statuses are read
    [status] = statuses_of(post(change(statuses=[failed])))
    # Then the status is kept, each such character replaced by U+FFFD
    assert status.failure is not None
    assert (status.failure.title, status.failure.message, status.failure.details) == ("a\ufffdb", "c\ufffdd", "\ufffd")
    assert status.pricing == {"category": "utility\ufffd"}


def test_an_error_code_no_integer_column_holds_is_left_out() -> None:
    failed = {**STATUS, "status": "failed", "errors": [{"code": 10**30, "title": "t"}]}
    [status] = statuses_of(post(change(statuses=[failed])))
    assert status.failure is not None and status.failure.code is None and status.failure.title == "t"


def test_more_updates_than_meta_puts_in_one_post_is_malformed() -> None:
    # Given Meta's most, 1,000 updates in one post, and one more
    most = [{**STATUS, "id": f"wamid.{n}"} for n in range(MAX_UPDATES_PER_POST)]
    # Then the first is split as usual and the second refused before anything is recorded or queued
    assert len(split_for_evolution(post(change(statuses=most)), waba_id=WABA, phone_number_id=PHONE).posts) == 1000
    with pytest.raises(MalformedWebhook, match="more than 1000 updates"):
        split_for_evolution(post(change(statuses=[*most, STATUS])), waba_id=WABA, phone_number_id=PHONE)
