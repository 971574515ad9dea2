from __future__ import annotations

import json
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatsapp_integrations.domain.errors import MalformedWebhook
from whatsapp_integrations.domain.evolution_webhook import parse_webhook
from whatsapp_integrations.domain.message_status import MessageStatus, normalise, rank, shown_status

TOKEN = "EAADEMOVALIDTOKEN0000000000000000000000000000"


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("SENT", MessageStatus.SENT),
        ("SERVER_ACK", MessageStatus.SENT),
        ("DELIVERY_ACK", MessageStatus.DELIVERED),
        ("delivered", MessageStatus.DELIVERED),
        ("READ", MessageStatus.READ),
        ("PLAYED", MessageStatus.PLAYED),
        ("ERROR", MessageStatus.FAILED),
        ("FAILED", MessageStatus.FAILED),
        ("PENDING", MessageStatus.PENDING),
        ("DELETED", None),
        ("", None),
    ],
)
def test_both_vocabularies_are_understood(reported: str, expected: MessageStatus | None) -> None:
    assert normalise(reported) == expected


def test_progress_is_ordered_and_a_failure_wins_what_is_shown() -> None:
    order = [
        MessageStatus.PENDING,
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.PLAYED,
    ]
    assert [rank(status) for status in order] == sorted(rank(status) for status in order)
    assert shown_status(MessageStatus.READ, failed=True) == MessageStatus.FAILED
    assert shown_status(MessageStatus.READ, failed=False) == MessageStatus.READ


def test_the_token_in_apikey_is_taken_out_and_never_shown() -> None:
    # Given a webhook carrying the Meta token in apikey, as Evolution sends it
    integration_id = uuid4()
    body = json.dumps(
        {
            "event": "messages.update",
            "instance": f"wa-{integration_id}",
            "apikey": TOKEN,
            "data": {"keyId": "wamid.1", "status": "READ"},
        }
    )
    # When it is parsed
    webhook = parse_webhook(body)
    # Then the integration is found from the instance name, and the token appears in no representation
    assert webhook.integration_id == integration_id and webhook.apikey == TOKEN
    assert TOKEN not in repr(webhook) and TOKEN not in str(webhook.data)


def test_the_by_events_path_names_the_event_when_the_body_does_not() -> None:
    webhook = parse_webhook(json.dumps({"instance": "wa-x", "data": {}}), "messages-update")
    assert webhook.event == "messages.update"


ANY_ID = "0ad0b1eb-0f8a-49ee-a804-85d5afc5d978"


@pytest.mark.parametrize(
    "instance",
    [
        "tenant1-wa",
        "wa-not-a-uuid",
        "wa-",
        f"wa-{ANY_ID.upper()}",
        f"wa-{{{ANY_ID}}}",
        f"wa-urn:uuid:{ANY_ID}",
        f"wa-{ANY_ID.replace('-', '')}",
    ],
)
def test_instances_that_are_not_ours_have_no_integration(instance: str) -> None:
    assert parse_webhook(json.dumps({"event": "send.message", "instance": instance})).integration_id is None


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        "[]",
        '"text"',
        "null",
        '{"instance": "wa-1"}',
        '{"event": "x"}',
        '{"event": 5, "instance": "wa-1"}',
        '{"event": "x", "instance": ["wa-1"]}',
        "[" * 100_000,
    ],
)
def test_malformed_envelopes_are_refused_without_echoing_them(body: str) -> None:
    with pytest.raises(MalformedWebhook) as raised:
        parse_webhook(body)
    assert body[:20] not in raised.value.detail or len(body) < 3


@settings(max_examples=300, derandomize=True)
@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(st.sampled_from(["event", "instance", "data", "apikey", "x"]), children, max_size=4)
            ),
            max_leaves=10,
        ).map(json.dumps),
    )
)
def test_any_body_either_parses_or_is_refused_as_malformed(body: str) -> None:
    try:
        webhook = parse_webhook(body)
    except MalformedWebhook:
        return
    assert webhook.event and webhook.instance


def test_an_array_in_data_gives_one_entry_per_item_with_the_same_envelope() -> None:
    # Given a webhook whose data is an array of updates
    body = {"event": "messages.update", "instance": "wa-x", "data": [{"keyId": "a"}, {"keyId": "b"}], "apikey": TOKEN}
    webhook = parse_webhook(json.dumps(body))
    # When it is split into entries
    entries = webhook.entries()
    # Then each item is an entry of its own, with the envelope's event and instance
    assert [entry.text("keyId") for entry in entries] == ["a", "b"]
    assert {(entry.event, entry.instance) for entry in entries} == {("messages.update", "wa-x")}
    # And a webhook whose data is one object is its own only entry
    assert parse_webhook(json.dumps({**body, "data": {"keyId": "c"}})).entries()[0].text("keyId") == "c"


def test_strings_postgresql_cannot_store_read_as_missing() -> None:
    # Given an envelope whose wamid carries a lone surrogate and whose apikey is not ASCII
    body = json.dumps(
        {
            "event": "messages.update",
            "instance": "x",
            "apikey": "\ud800",
            "data": {"keyId": "wamid.\ud800", "s": "a\x00"},
        }
    )
    # When it is parsed
    webhook = parse_webhook(body)
    # Then neither is there to store or hash: the status is skipped, the apikey is missing (401)
    assert webhook.text("keyId") is None and webhook.text("s") is None and webhook.apikey is None


def test_an_array_data_of_more_than_1000_entries_is_malformed() -> None:
    entries = [{"keyId": f"wamid.{n}", "status": "SENT"} for n in range(1001)]
    assert (
        len(parse_webhook(json.dumps({"event": "messages.update", "instance": "x", "data": entries[:1000]})).entries())
        == 1000
    )
    with pytest.raises(MalformedWebhook, match="more than 1000 entries"):
        parse_webhook(json.dumps({"event": "messages.update", "instance": "x", "data": entries}))
