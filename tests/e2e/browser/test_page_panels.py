"""The panels under a connected number, in Chromium against the local stack: a test message followed until it is
delivered, Meta's refusal at the recipient field, the diagnostics with a broken gateway webhook and its repair,
"Check now", and the Webhooks panel naming our relay URL; axe-core and a 375 px screen over all of them."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from playwright.sync_api import Browser, Locator, Page, expect

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.e2e.browser.conftest import api_for, axe_violations, open_page, screenshot_of

APP_ID = "300000000000001"
APP_SECRET = "demo-app-secret-0123456789abcdef"
TOKEN = "EAADEMOVALIDTOKEN0000000000000000000000000000"
WABA = "200000000000001"
HELLO = {"template": {"name": "hello_world", "language": "en_US"}}
CUSTOMER = "5511999990000"


def connected_via_api(stack: LocalStack, tenant: str, name: str = "Main number") -> str:
    """A demo number created with the whole form's values and connected, the way the page would; its id."""
    with api_for(stack, tenant) as api:
        created = api.post(
            "/integrations/whatsapp",
            json={
                "name": name,
                "phone_number_id": sim.DEMO_PHONE_NUMBER_IDS[0],
                "waba_id": WABA,
                "access_token": TOKEN,
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
            },
        )
        assert created.status_code == 201, created.text
        integration_id: str = created.json()["id"]
        assert api.post(f"/integrations/whatsapp/{integration_id}/connect").status_code == 202
        wait_until(lambda: status_of(api, integration_id)["status"] == "connected")
    return integration_id


def delivered_via_api(stack: LocalStack, tenant: str, integration_id: str) -> None:
    """One hello_world through the number, delivered: the traffic checks then have webhooks from both sides."""
    with api_for(stack, tenant) as api:
        sent = api.post(f"/integrations/whatsapp/{integration_id}/test-message", json={"to": CUSTOMER, **HELLO})
        assert sent.status_code == 202, sent.text
        wait_until(lambda: api.get(sent.json()["status_url"]).json().get("status") == "DELIVERED")


def status_of(api: httpx.Client, integration_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = api.get(f"/integrations/whatsapp/{integration_id}/status").json()
    return answer


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def open_detail(page: Page, name: str = "Main number") -> None:
    page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, level=2)).to_be_visible()


def panel(page: Page, title: str) -> Locator:
    return page.get_by_role("region", name=title, exact=True)


def check_item(page: Page, check: str) -> Locator:
    return panel(page, "Diagnostics").locator(f'[data-check="{check}"]')


def test_connect_with_the_form_then_a_test_message_is_delivered(page: Page, stack: LocalStack) -> None:
    # Given the whole form filled with the demo number, its app ID and secret (connecting needs them), checked, saved
    page.get_by_role("button", name="New integration").click()
    expect(page.get_by_label("App secret", exact=True)).to_have_accessible_description(
        re.compile("Needed to connect the number")
    )
    values = {
        "Name": "Main number",
        "Phone number ID": sim.DEMO_PHONE_NUMBER_IDS[0],
        "WhatsApp Business Account ID": WABA,
        "Access token": TOKEN,
        "App ID": APP_ID,
        "App secret": APP_SECRET,
    }
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Check with Meta").click()
    expect(page.get_by_role("region", name="Meta found this number")).to_contain_text("Demo Shop 1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Main number", level=2)).to_be_visible()
    webhooks = panel(page, "Webhooks")
    expect(webhooks).to_contain_text("Not wired to this service")
    expect(webhooks).to_contain_text("Connecting the number wires Meta's webhooks to this service.")
    # When it is connected
    page.get_by_role("button", name="Connect", exact=True).click()
    row = page.locator("tbody tr").filter(has=page.get_by_role("button", name="Main number", exact=True))
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "connected", timeout=20_000)
    integration_id = row.get_attribute("data-integration-id")
    # Then the Webhooks panel names our relay URL as where Meta delivers
    ours = f"{stack.api_url}/webhooks/meta/{integration_id}"
    expect(webhooks.locator("[data-delivery]")).to_have_attribute("data-delivery", "ours")
    expect(webhooks.locator("code")).to_have_text(ours)
    expect(webhooks).to_contain_text("Nothing from Meta yet. Send a test message")

    # When the tenant sends the hello_world template to a customer
    test_message = panel(page, "Send a test message")
    test_message.get_by_label("Recipient", exact=True).fill("+55 11 99999-0000")
    expect(test_message.get_by_label("Template name", exact=True)).to_have_value("hello_world")
    test_message.get_by_role("button", name="Send test message").click()
    # Then the page follows it until WhatsApp reports it delivered, each status as it came
    expect(test_message.get_by_role("heading", name="Sent to 55*******0000")).to_be_visible()
    status = test_message.locator("[data-message-status]")
    expect(status).to_have_attribute("data-message-status", "DELIVERED", timeout=20_000)
    expect(status).to_have_text("Status: delivered. It reached the recipient's phone: the number works.")
    steps = test_message.get_by_role("list", name="Statuses received").get_by_role("listitem")
    expect(steps.last).to_contain_text("delivered")
    screenshot_of(test_message, "page-test-message.png")

    # When "Check now" is clicked, Then the API checks now, and its answer shows both sides' webhooks arrived
    with page.expect_response(lambda answer: answer.url.endswith("/status/refresh")) as refreshed:
        page.get_by_role("button", name="Check now").click()
    assert refreshed.value.request.method == "POST" and refreshed.value.status == 200
    checked_at = refreshed.value.json()["last_checked_at"]
    expect(page.get_by_text(re.compile(r"^Last checked: "))).not_to_have_text("Last checked: never.")
    assert checked_at is not None
    for label in ("Last webhook from Meta", "Last webhook from the WhatsApp gateway"):
        expect(webhooks.locator("dt", has_text=label).locator("xpath=following-sibling::dd")).not_to_have_text("never")
    expect(webhooks.get_by_role("list", name="What this means")).to_have_count(0)
    screenshot_of(webhooks, "page-webhooks.png")
    # And axe finds nothing serious or critical in the detail with its panels filled in
    assert axe_violations(page) == []


def test_a_refused_recipient_shows_the_fix_at_the_recipient_field(page: Page, stack: LocalStack, tenant: str) -> None:
    # Given a connected number
    connected_via_api(stack, tenant)
    page.reload()
    open_detail(page)
    test_message = panel(page, "Send a test message")
    # When a test message goes to a recipient outside the test number's allowed list (Meta's 131030)
    test_message.get_by_label("Recipient", exact=True).fill(sim.NOT_ALLOWED_RECIPIENT)
    test_message.get_by_role("button", name="Send test message").click()
    # Then the recipient field says why, what to do and Meta's code, and has the focus
    recipient = test_message.get_by_label("Recipient", exact=True)
    expect(recipient).to_have_attribute("aria-invalid", "true")
    expect(recipient).to_have_accessible_description(
        re.compile(r"not in the test number's allowed list\..*Fix: Add the recipient .*Meta code 131030 · fbtrace_id")
    )
    expect(recipient).to_be_focused()
    expect(test_message.get_by_role("alert")).to_contain_text("Meta refused the test message")
    expect(page.locator("body")).not_to_contain_text("[object Object]")
    assert axe_violations(page) == []


def test_diagnostics_find_a_broken_gateway_webhook_and_repair_fixes_it(
    page: Page, stack: LocalStack, tenant: str
) -> None:
    # Given a connected number that delivered a message (so both sides' webhooks have arrived)
    integration_id = connected_via_api(stack, tenant)
    delivered_via_api(stack, tenant, integration_id)
    page.reload()
    open_detail(page)
    diagnostics = panel(page, "Diagnostics")
    # When diagnostics run, Then all 21 checks pass
    diagnostics.get_by_role("button", name="Run diagnostics").click()
    expect(diagnostics.locator("[data-summary]")).to_have_attribute("data-summary", "ok")
    expect(diagnostics.locator("[data-summary]")).to_contain_text("21 OK")
    expect(diagnostics.get_by_role("button", name="Repair")).to_have_count(0)

    # Given Evolution's webhook config for the instance changed behind our back
    assert stack.evolution_simulator is not None
    stack.evolution_simulator.set_webhook_behind_our_back(
        f"wa-{integration_id}", {"enabled": True, "url": "https://elsewhere.example/hook", "events": ["CALL"]}
    )
    # When diagnostics run again
    diagnostics.get_by_role("button", name="Run diagnostics").click()
    # Then that check fails with its fix, says Repair can fix it, and links its troubleshooting section
    broken = check_item(page, "evolution.webhook")
    expect(broken).to_have_attribute("data-status", "fail")
    expect(broken).to_contain_text("Fix: Use Repair")
    expect(broken).to_contain_text("Repair can fix this.")
    expect(broken.get_by_role("link")).to_have_attribute("href", "/docs/troubleshooting.md#check-evolution-webhook")
    expect(diagnostics.locator("[data-summary]")).to_contain_text("1 failed, 20 OK")
    repair = diagnostics.get_by_role("button", name="Repair")
    expect(repair).to_have_accessible_description(re.compile("checks to repair: 1"))
    screenshot_of(diagnostics, "page-diagnostics.png")
    assert axe_violations(page) == []
    # When Repair is clicked
    repair.click()
    # Then the check passes again and says what was done, and nothing is left to repair
    expect(diagnostics.get_by_text("Repair done. Checks repaired: 1; each says what was done.")).to_be_visible()
    expect(broken).to_have_attribute("data-status", "ok")
    expect(broken).to_contain_text("Repaired: ")
    expect(diagnostics.locator("[data-summary]")).to_have_attribute("data-summary", "ok")
    expect(diagnostics.get_by_role("button", name="Repair")).to_have_count(0)
    screenshot_of(diagnostics, "page-diagnostics-repaired.png")
    # And the repair really set the instance's webhook back to ours
    instance = stack.evolution_simulator.instances[f"wa-{integration_id}"]
    assert "elsewhere.example" not in str(instance)


def test_the_panels_are_usable_on_a_375_px_screen(browser: Browser, stack: LocalStack, tenant: str) -> None:
    # Given a connected number, on a phone-sized screen
    connected_via_api(stack, tenant)
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = open_page(context, stack, tenant)
    try:
        open_detail(page)
        # When a test message is sent and delivered, and the diagnostics have run
        test_message = panel(page, "Send a test message")
        test_message.get_by_label("Recipient", exact=True).fill(CUSTOMER)
        test_message.get_by_role("button", name="Send test message").click()
        expect(test_message.locator("[data-message-status]")).to_have_attribute(
            "data-message-status", "DELIVERED", timeout=20_000
        )
        panel(page, "Diagnostics").get_by_role("button", name="Run diagnostics").click()
        expect(panel(page, "Diagnostics").locator("[data-summary]")).to_be_visible()
        # Then nothing is wider than the screen (the relay URL wraps), and the panels' buttons can be pressed
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        for button in ("Send test message", "Run diagnostics", "Check now"):
            box = page.get_by_role("button", name=button, exact=True).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["height"] >= 40
        assert axe_violations(page) == []
    finally:
        context.close()
