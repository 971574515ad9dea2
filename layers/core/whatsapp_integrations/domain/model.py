"""The base of every pydantic model here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Pydantic builds a model's validator and serialiser when the class is created, which made every cold start
    build every model its modules define. Deferred, each is built on first use, so a function builds only the models
    its invocations need (GET never builds the diagnostics' or the test message's)."""

    model_config = ConfigDict(defer_build=True)
