"""Move the messages of a dead-letter queue back to its source queue (`make redrive`).

Works against AWS (credentials from the environment) and against the local stack's moto (AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import argparse

import boto3


def redrive(dead_letter_queue_url: str, source_queue_url: str, limit: int) -> int:
    sqs = boto3.client("sqs")
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=dead_letter_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            sqs.send_message(
                QueueUrl=source_queue_url,
                MessageBody=message["Body"],
                MessageAttributes=message.get("MessageAttributes", {}),
            )
            sqs.delete_message(QueueUrl=dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dlq-url", required=True, help="the dead-letter queue (stack output ProvisioningDeadLetterQueueUrl)"
    )
    parser.add_argument("--queue-url", required=True, help="the source queue (stack output ProvisioningQueueUrl)")
    parser.add_argument("--limit", type=int, default=1000)
    arguments = parser.parse_args()
    print(f"moved {redrive(arguments.dlq_url, arguments.queue_url, arguments.limit)} message(s)")


if __name__ == "__main__":
    main()
