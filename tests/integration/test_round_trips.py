"""Round trips per request on a warm connection: a single read is one (no BEGIN/COMMIT around it), and a statement
already prepared on the connection is not parsed again."""

from __future__ import annotations

from local import graph_simulator as sim
from tests.integration.round_trips import count_round_trips
from whatsapp_integrations.domain.caller import Caller
from whatsapp_integrations.domain.credentials import MetaCredentials
from whatsapp_integrations.services import Services
from whatsapp_integrations.usecases.create_integration import create_integration
from whatsapp_integrations.usecases.get_integration import get_integration
from whatsapp_integrations.usecases.list_integrations import list_integrations

CREDENTIALS = MetaCredentials(
    phone_number_id=sim.DEMO_PHONE_NUMBER_IDS[0], waba_id=sim.DEMO_WABA_ID, access_token=sim.VALID_TOKEN
)


def test_reading_one_integration_takes_one_round_trip(services: Services, caller: Caller) -> None:
    # Given an integration, and a connection that has already read one (its statement is prepared)
    created = create_integration(caller, "Main", CREDENTIALS, services)
    round_trips = count_round_trips(services)
    get_integration(caller, created.id, services)
    # When it is read again
    found, trips = round_trips.of(lambda: get_integration(caller, created.id, services))
    # Then that took one round trip: Bind/Execute/Sync of the prepared statement, and nothing around it
    assert found.id == created.id
    assert trips == 1


def test_the_first_read_on_a_connection_prepares_its_statement_once(services: Services, caller: Caller) -> None:
    # Given a fresh connection
    created = create_integration(caller, "Main", CREDENTIALS, services)
    round_trips = count_round_trips(services)
    # When the same integration is read twice
    _, first = round_trips.of(lambda: get_integration(caller, created.id, services))
    _, second = round_trips.of(lambda: get_integration(caller, created.id, services))
    # Then only the first pays for Parse/Describe
    assert (first, second) == (2, 1)


def test_listing_a_page_takes_one_round_trip(services: Services, caller: Caller) -> None:
    # Given an integration, and a connection that has already listed once
    create_integration(caller, "Main", CREDENTIALS, services)
    round_trips = count_round_trips(services)
    list_integrations(caller, services, status=None, after=None, limit=20)
    # When the page is listed again
    page, trips = round_trips.of(lambda: list_integrations(caller, services, status=None, after=None, limit=20))
    # Then that took one round trip
    assert len(page.items) == 1
    assert trips == 1
