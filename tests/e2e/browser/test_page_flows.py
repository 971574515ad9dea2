"""What a tenant does on the page, in Chromium: create with a bad token, create, connect, watch, disconnect, delete,
and a conflicting edit from a second tab."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from local import graph_simulator as sim
from local.stack import LocalStack
from tests.e2e.browser.conftest import api_for, open_page, screenshot

APP_ID = "300000000000001"
APP_SECRET = "demo-app-secret-0123456789abcdef"
FORM = {
    "Name": "Main number",
    "Phone number ID": sim.DEMO_PHONE_NUMBER_IDS[0],
    "WhatsApp Business Account ID": sim.DEMO_WABA_ID,
}


def fill_form(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)


def row_of(page: Page, name: str):
    return page.locator("tbody tr").filter(has=page.get_by_role("button", name=name, exact=True))


def test_a_bad_token_is_explained_at_the_token_field(page: Page) -> None:
    # Given the create form filled with the demo number and an expired token
    page.get_by_role("button", name="New integration").click()
    fill_form(page, {**FORM, "Access token": sim.EXPIRED_TOKEN})
    # When the tenant checks it with Meta
    page.get_by_role("button", name="Check with Meta").click()
    # Then Meta's 190 and the fix are shown at the token field, which is described by them
    token = page.get_by_label("Access token", exact=True)
    expect(token).to_have_attribute("aria-invalid", "true")
    expect(token).to_have_accessible_description(
        re.compile(r"The access token has expired\..*Meta code 190 · subcode 463")
    )
    expect(token).to_have_accessible_description(re.compile(r"Fix: .*System users"))
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    screenshot(page, "page-create-token-error.png")


def test_create_connect_watch_disconnect_and_delete(page: Page, stack: LocalStack) -> None:
    # Given valid credentials with the app ID and secret that connecting needs
    page.get_by_role("button", name="New integration").click()
    fill_form(page, {**FORM, "Access token": sim.VALID_TOKEN, "App ID": APP_ID, "App secret": APP_SECRET})
    # When they are checked, Then Meta's profile of the number is shown before anything is saved
    page.get_by_role("button", name="Check with Meta").click()
    preview = page.get_by_role("region", name="Meta found this number")
    expect(preview).to_contain_text("Demo Shop 1")
    expect(preview).to_contain_text("+1 555-010-0001")
    screenshot(page, "page-create-preview.png")
    # When it is saved, Then the detail shows the fingerprint and no secret is left in the page or the browser
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Main number", level=2)).to_be_visible()
    expect(page.get_by_test_id("token-fingerprint")).to_contain_text(sim.VALID_TOKEN[-4:])
    html = page.content()
    stored = page.evaluate(
        "() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage}) + location.href"
    )
    for secret in (sim.VALID_TOKEN, APP_SECRET):
        assert secret not in html and secret not in stored
    row = row_of(page, "Main number")
    expect(row.locator("[data-status]")).to_have_text("validated")

    # When the tenant connects, Then the badge turns connected without a reload, and screen readers hear it
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "connected", timeout=20_000)
    expect(page.get_by_test_id("announcer")).to_have_text("Main number is now connected.")
    expect(page.get_by_role("list").filter(has_text="validated → connecting")).to_be_visible()
    expect(page.get_by_role("button", name="Connect", exact=True)).to_be_disabled()
    screenshot(page, "page-connected.png")

    # When it is disconnected (after confirming), Then it ends disconnected
    page.get_by_role("button", name="Disconnect").click()
    page.get_by_role("button", name="Yes, disconnect").click()
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "disconnected", timeout=20_000)

    # When it is deleted (after confirming), Then its row goes away
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(row).to_have_count(0, timeout=20_000)
    expect(page.get_by_text("No WhatsApp number yet.")).to_be_visible()


def test_an_edit_that_conflicts_with_another_tab_keeps_what_was_typed(
    context: BrowserContext, stack: LocalStack, tenant: str
) -> None:
    # Given an integration, open for editing in two tabs
    with api_for(stack, tenant) as api:
        created = api.post(
            "/integrations/whatsapp",
            json={
                "name": "Main number",
                "phone_number_id": FORM["Phone number ID"],
                "waba_id": FORM["WhatsApp Business Account ID"],
                "access_token": sim.VALID_TOKEN,
            },
        )
        assert created.status_code == 201, created.text
    first, second = open_page(context, stack, tenant), open_page(context, stack, tenant)
    for tab in (first, second):
        tab.get_by_role("button", name="Main number", exact=True).click()
        tab.get_by_role("button", name="Edit").click()
    # When the second tab renames it, and the first tab saves another name on the old version
    second.get_by_label("Name", exact=True).fill("Renamed in tab two")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("heading", name="Renamed in tab two", level=2)).to_be_visible()
    first.get_by_label("Name", exact=True).fill("Support line")
    first.get_by_role("button", name="Save").click()
    # Then the first tab says it changed elsewhere, and reloading keeps what was typed
    expect(first.get_by_role("alert")).to_contain_text("changed elsewhere")
    first.get_by_role("button", name="Load the latest version, keep my changes").click()
    expect(first.get_by_text("The latest version is loaded")).to_be_visible()
    expect(first.get_by_label("Name", exact=True)).to_have_value("Support line")
    # And saving again wins with the new ETag
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("heading", name="Support line", level=2)).to_be_visible()
    with api_for(stack, tenant) as api:
        stored = api.get(f"/integrations/whatsapp/{created.json()['id']}").json()
    assert (stored["name"], stored["version"]) == ("Support line", 3)
