from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# In Lambda (tracing active) Tracer's default patches every library X-Ray knows the moment it is created, which
# imports them all (httpx, requests, sqlite3 ...) into every function. Each is patched instead when a function
# first builds a client of it (trace_calls_of).
tracer = Tracer(auto_patch=False)
metrics = Metrics(namespace="WhatsAppIntegrations")


def trace_calls_of(library: str) -> None:
    """X-Ray subsegments for the calls made with `library` ("botocore" or "httpx"); patching twice does nothing."""
    tracer.patch([library])
