"""SQS for the local stack: the queues declared in template.yaml, created in moto, and pollers that invoke the
SQS-triggered functions the way Lambda's event source mapping does (batches, partial batch failures)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from local.cfn_yaml import load_template
from local.gateway import FunctionPool

Log = Callable[[str], None]


@dataclass(frozen=True)
class QueueTrigger:
    function_name: str
    code_uri: Path
    handler: str
    queue_logical_id: str
    batch_size: int


def create_queues(template_path: Path, sqs: Any, parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Create every AWS::SQS::Queue of the template (dead-letter queues first); return logical id -> URL.
    `parameters` overrides the template parameters' defaults, as a deployment would."""
    template = load_template(template_path)
    parameters = {
        **{name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()},
        **(parameters or {}),
    }
    queues = {
        name: r.get("Properties", {}) for name, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"
    }
    urls: dict[str, str] = {}
    for name in sorted(queues, key=lambda queue: "RedrivePolicy" in queues[queue]):
        properties = queues[name]
        attributes = {"VisibilityTimeout": str(properties.get("VisibilityTimeout", 30))}
        redrive = properties.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            max_receive = redrive["maxReceiveCount"]
            if isinstance(max_receive, dict):
                max_receive = parameters[max_receive["Ref"]]
            target_arn = sqs.get_queue_attributes(QueueUrl=urls[target], AttributeNames=["QueueArn"])["Attributes"]
            attributes["RedrivePolicy"] = (
                f'{{"deadLetterTargetArn": "{target_arn["QueueArn"]}", "maxReceiveCount": "{max_receive}"}}'
            )
        urls[name] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return urls


def queue_triggers(template_path: Path) -> list[QueueTrigger]:
    template = load_template(template_path)
    triggers = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                triggers.append(
                    QueueTrigger(
                        name,
                        template_path.parent / properties["CodeUri"],
                        properties.get("Handler", "app.lambda_handler"),
                        queue,
                        int(event["Properties"].get("BatchSize", 10)),
                    )
                )
    return triggers


class QueuePoller:
    """Long-polls one queue and hands each batch to its function; deletes what the function did not report failed."""

    def __init__(self, trigger: QueueTrigger, queue_url: str, pool: FunctionPool, log: Log) -> None:
        self._trigger, self._queue_url, self._pool, self._log = trigger, queue_url, pool, log
        self._sqs = boto3.client("sqs")
        self._stopped = threading.Event()
        self._arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._thread = threading.Thread(target=self._run, name=f"poller-{trigger.function_name}", daemon=True)

    def start(self) -> QueuePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._poll_once()
            except Exception as error:  # keep polling, as the event source mapping does
                self._log(f"poller {self._trigger.function_name}: {type(error).__name__}")
                time.sleep(1)

    def _poll_once(self) -> None:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._trigger.batch_size,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return
        result = self._pool.invoke({"Records": [self._record(message) for message in messages]}, str(uuid.uuid4()))
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        self._log(f"{self._trigger.function_name}: {len(messages)} message(s), {len(failed)} to retry")

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "messageAttributes": {
                key: {
                    "stringValue": value.get("StringValue"),
                    "dataType": value.get("DataType", "String"),
                    "stringListValues": [],
                    "binaryListValues": [],
                }
                for key, value in message.get("MessageAttributes", {}).items()
            },
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": "us-east-1",
        }


def parameter_environment(template_path: Path, parameters: dict[str, str]) -> dict[str, str]:
    """The environment variables that the template sets from the given parameters (`VAR: !Ref Parameter`, in
    Globals or any function), with the given values: one setting reaches both the queues and the functions."""
    template = load_template(template_path)
    blocks = [template.get("Globals", {}).get("Function", {})] + [
        resource.get("Properties", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    environment: dict[str, str] = {}
    for block in blocks:
        for variable, value in ((block.get("Environment") or {}).get("Variables") or {}).items():
            if isinstance(value, dict) and value.get("Ref") in parameters:
                environment[variable] = str(parameters[value["Ref"]])
    return environment
