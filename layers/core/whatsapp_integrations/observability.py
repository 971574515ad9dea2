import os

from aws_lambda_powertools import Logger, Metrics, Tracer

# Built at import, so the service and namespace are read here, with the template's values as defaults: a process
# that imports this before POWERTOOLS_SERVICE_NAME is set (the local stack, tests) still logs the right service.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "whatsapp-integrations")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "WhatsAppIntegrations")

logger = Logger(service=SERVICE)
# In Lambda (tracing active) Tracer's default patches every library X-Ray knows the moment it is created, which
# imports them all (httpx, requests, sqlite3 ...) into every function. Each is patched instead when a function
# first builds a client of it (trace_calls_of).
tracer = Tracer(service=SERVICE, auto_patch=False)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def trace_calls_of(library: str) -> None:
    """X-Ray subsegments for the calls made with `library` ("botocore" or "httpx"); patching twice does nothing."""
    tracer.patch([library])
