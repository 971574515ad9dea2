"""Invocations sharing a process (the local stack's execution environments are threads) never see each
other's event: Powertools keeps it in a class attribute, our resolver keeps it per thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from local.gateway import LambdaContext, http_api_event
from whatsapp_integrations.http.api import build_api, caller
from whatsapp_integrations.settings import get_settings


def _whoami(app: APIGatewayHttpResolver, inside: threading.Barrier) -> Callable[[], dict[str, str]]:
    def whoami() -> dict[str, str]:
        inside.wait()
        return {"tenant": caller(app, get_settings()).tenant_id}

    return whoami


def test_concurrent_invocations_each_see_their_own_tenant() -> None:
    settings = get_settings()
    # Given two resolvers (two execution environments) whose route pauses until both requests are inside
    inside = threading.Barrier(2, timeout=5)
    apps = [build_api(settings), build_api(settings)]
    for app in apps:
        app.get("/whoami")(_whoami(app, inside))
    answers: dict[str, str] = {}

    def call(app: APIGatewayHttpResolver, tenant: str) -> None:
        event = http_api_event("GET /whoami", "GET", "/whoami", claims={"sub": "u", "tenant_id": tenant})
        result = app.resolve(event, LambdaContext("unit", tenant))
        answers[tenant] = json.loads(result["body"])["tenant"]

    # When both invoke at the same time from two threads
    threads = [
        threading.Thread(target=call, args=(app, tenant)) for app, tenant in zip(apps, ["t-one", "t-two"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each answer names its own caller's tenant
    assert answers == {"t-one": "t-one", "t-two": "t-two"}
