"""The cold-start floor of POST validate under the project's fixed choices: context for its goal, not a goal.

The floor of a read (bench/floor_read.py: Powertools with its validating resolver, pydantic, pg8000 and one
statement), with the route of validate and the credentials as a validated pydantic body, plus the least validate
must do beyond a read: an httpx client and the three Graph calls that check the credentials (the token, the WABA's
numbers, the number). Nothing of the project is imported, so what validate_credentials pays beyond this is the
project's own.
"""

import os

import httpx
from pydantic import BaseModel

from bench.floor_read import app, lambda_handler
from bench.seed import connect

__all__ = ["lambda_handler"]


class Credentials(BaseModel):
    phone_number_id: str
    waba_id: str
    access_token: str


class Validated(BaseModel):
    phone_number_id: str
    display_phone_number: str


@app.post("/integrations/whatsapp/validate")
def validate(credentials: Credentials) -> Validated:
    connect(os.environ["DATABASE_URL"]).run("SELECT now()")  # the tenant's request quota is one statement
    root = f"{os.environ['GRAPH_API_BASE_URL'].rstrip('/')}/{os.environ['GRAPH_API_VERSION']}"
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {credentials.access_token}"}) as graph:
        graph.get(f"{root}/debug_token", params={"input_token": credentials.access_token}).raise_for_status()
        graph.get(f"{root}/{credentials.waba_id}/phone_numbers").raise_for_status()
        number = graph.get(f"{root}/{credentials.phone_number_id}", params={"fields": "display_phone_number"})
    number.raise_for_status()
    return Validated(
        phone_number_id=credentials.phone_number_id, display_phone_number=number.json()["display_phone_number"]
    )
