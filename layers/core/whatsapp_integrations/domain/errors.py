"""Domain errors. The HTTP layer maps each class to one status code and the documented problem shape."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationProblem:
    """One reason why a tenant's credentials were refused, with what to do about it."""

    field: str
    code: str
    message: str
    fix: str
    meta_code: int | None = None
    meta_subcode: int | None = None
    fbtrace_id: str | None = None


class DomainError(Exception):
    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class IntegrationNotFound(DomainError):
    code = "integration_not_found"

    def __init__(self) -> None:
        super().__init__("No WhatsApp integration with this id exists for your account.")


class PhoneNumberAlreadyConnected(DomainError):
    code = "phone_number_already_connected"

    def __init__(self) -> None:
        super().__init__(
            "This phone number ID is already used by another live integration. "
            "Delete that integration first, or use another phone number."
        )


class VersionMismatch(DomainError):
    code = "version_mismatch"

    def __init__(self, current_version: int) -> None:
        super().__init__(
            f"The integration changed since you read it (current version {current_version}). "
            "Read it again and retry with its new ETag."
        )
        self.current_version = current_version


class InvalidState(DomainError):
    code = "invalid_state"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"Cannot {action} an integration that is {status}. Wait for it to settle, then retry.")
        self.status = status


class AppSecretRequired(DomainError):
    """Connecting wires Meta's webhooks to our relay, which verifies every post with the app secret."""

    code = "app_secret_required"

    def __init__(self) -> None:
        super().__init__(
            "Connecting needs the app ID and app secret: Meta signs every webhook with the app secret, and this "
            "service refuses webhooks it cannot verify. Add them to the integration (PUT with app_id and "
            "app_secret, from the Meta App Dashboard > App settings > Basic), then connect again."
        )


class MalformedWebhook(DomainError):
    code = "malformed_webhook"


class WebhookUnauthenticated(DomainError):
    code = "webhook_unauthenticated"

    def __init__(
        self, detail: str = "The webhook proves neither the integration's webhook secret nor its token."
    ) -> None:
        super().__init__(detail)


class EvolutionUnconfirmed(DomainError):
    """A webhook's claim could not be checked with Evolution now; nothing changed, and a retry may succeed."""

    code = "evolution_unconfirmed"

    def __init__(self) -> None:
        super().__init__("Evolution could not confirm the event now; nothing was changed. Deliver it again later.")


class HandshakeRefused(DomainError):
    code = "handshake_refused"

    def __init__(self) -> None:
        super().__init__("The verification request does not carry this integration's verify token.")


class QueueUnavailable(DomainError):
    """What arrived could not be queued; nothing was kept, so the sender must deliver it again."""

    code = "queue_unavailable"

    def __init__(self) -> None:
        super().__init__("The webhook could not be queued; nothing was kept. Deliver it again.")


class GatewayUnavailable(DomainError):
    """Evolution (the WhatsApp gateway) could not be reached or failed; nothing was sent or changed."""

    code = "gateway_unavailable"

    def __init__(self) -> None:
        super().__init__("The WhatsApp gateway did not answer; nothing was sent. Retry shortly.")
        self.retry_after_seconds = 10


class TestMessageRejected(DomainError):
    """Meta refused the test message (Evolution answers 201 and wraps Meta's error)."""

    code = "test_message_rejected"

    def __init__(self, problem: ValidationProblem) -> None:
        super().__init__(f"Meta refused the test message: {problem.message}")
        self.problems = [problem]


class MessageNotFound(DomainError):
    code = "message_not_found"

    def __init__(self) -> None:
        super().__init__("No message with this WhatsApp message id (wamid) was recorded for this integration.")


class PreconditionRequired(DomainError):
    code = "precondition_required"

    def __init__(self) -> None:
        super().__init__('Send the ETag from your last read in an If-Match header, e.g. If-Match: "3".')


class CredentialsRejected(DomainError):
    code = "credentials_rejected"

    def __init__(self, problems: list[ValidationProblem]) -> None:
        super().__init__(f"The credentials were refused: {len(problems)} problem(s) to fix.")
        self.problems = problems


class MetaUnavailable(DomainError):
    """Meta could not answer now; nothing was stored and the same request may succeed later."""

    code = "meta_unavailable"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(
        self,
        limit: int,
        retry_after_seconds: int,
        what: str = "calls that reach Meta",
        per: str = "a minute per account",
    ) -> None:
        super().__init__(f"Too many {what}: at most {limit} {per}. Retry in {retry_after_seconds} s.")
        self.retry_after_seconds = retry_after_seconds


class DatabaseUnavailable(DomainError):
    code = "database_unavailable"

    def __init__(self, detail: str = "The database is briefly unavailable. Retry shortly.") -> None:
        super().__init__(detail)
