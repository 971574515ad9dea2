import os

from aws_lambda_powertools import Logger, Metrics, Tracer

# Built at import, so the service and namespace are read here, with the template's values as defaults: a process
# that imports this before POWERTOOLS_SERVICE_NAME is set (the local stack, tests) still logs the right service.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "whatsapp-integrations")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "WhatsAppIntegrations")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
