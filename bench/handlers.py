"""Functions loaded in the bench's own process, as one warm Lambda execution environment: handler time only, no
gateway and no HTTP. Their settings come from the environment template.yaml gives them (bench/backends.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from local.gateway import LambdaContext
from whatsapp_integrations.services import default_services
from whatsapp_integrations.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
Event = dict[str, Any]


@contextlib.contextmanager
def loaded(function: str, environment: dict[str, str]) -> Iterator[ModuleType]:
    """functions/<function>/app.py imported with `environment`, as a fresh execution environment; the process's own
    environment and the shared caches (settings, services) are put back afterwards."""
    saved = dict(os.environ)
    os.environ.update({name: value for name, value in environment.items() if value})
    for name in (name for name, value in environment.items() if not value):
        os.environ.pop(name, None)  # an empty value means unset, as in Settings.from_environment
    get_settings.cache_clear()
    default_services.cache_clear()
    try:
        spec = importlib.util.spec_from_file_location(f"bench_fn_{function}", ROOT / "functions" / function / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        if default_services.cache_info().currsize:
            default_services().database.close()
        get_settings.cache_clear()
        default_services.cache_clear()
        os.environ.clear()
        os.environ.update(saved)


def invoker(function: ModuleType, check: Callable[[dict[str, Any]], bool]) -> Callable[[Event], dict[str, Any]]:
    """Call lambda_handler and insist on the answer, so a broken path cannot pass for a fast one."""
    return handler_invoker(function.lambda_handler, function.__name__, check)


def handler_invoker(
    handler: Callable[[Event, LambdaContext], dict[str, Any]], name: str, check: Callable[[dict[str, Any]], bool]
) -> Callable[[Event], dict[str, Any]]:
    """The same for a handler that is not a function's module (a bench's floor)."""
    context = LambdaContext(name, "bench")

    def invoke(event: Event) -> dict[str, Any]:
        answer = handler(event, context)
        if not check(answer):
            raise RuntimeError(f"unexpected answer: {answer.get('statusCode')} {str(answer.get('body'))[:300]}")
        return answer

    return invoke


def status(code: int, body: Callable[[Any], bool] = lambda _: True) -> Callable[[dict[str, Any]], bool]:
    """An HTTP answer with this status code, whose JSON body passes `body`."""
    return lambda answer: answer.get("statusCode") == code and body(json.loads(answer.get("body") or "null"))


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Powertools prints its EMF metric records to stdout (even with metrics disabled: the cold-start metric, and a
    flush every 100 values); keep them, and its 'No application metrics' warning, out of the report."""
    with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield
