"""The error tree (routeyard/errors.py): each HTTP error's status and default message, the
hierarchy the handlers catch, and the one envelope."""

from __future__ import annotations

import json

import pytest

from routeyard import errors
from routeyard.errors import APIError, error_body

# OpenRouter's codes with the messages routeyard answers them with when it has no better one.
HTTP_ERRORS = [
    (errors.BadRequest, 400, "Bad Request"),
    (errors.Unauthorized, 401, "No auth credentials found"),
    (errors.PaymentRequired, 402, "Payment Required"),
    (errors.Forbidden, 403, "Forbidden"),
    (errors.NotFound, 404, "Not Found"),
    (errors.RequestTimeout, 408, "Request Timeout"),
    (errors.Conflict, 409, "Conflict"),
    (errors.PreconditionFailed, 412, "Precondition Failed"),
    (errors.PayloadTooLarge, 413, "Request body too large"),
]


@pytest.mark.parametrize(("cls", "status", "message"), HTTP_ERRORS)
def test_each_http_error_has_its_status_and_default_message(
    cls: type[APIError], status: int, message: str
) -> None:
    exc = cls()
    assert (exc.status, exc.message, exc.metadata, exc.headers) == (status, message, None, None)
    assert cls("Model x not found").message == "Model x not found"
    assert isinstance(exc, APIError) and isinstance(exc, errors.RouteyardError)


def test_a_subclass_inherits_what_it_does_not_state() -> None:
    class Gone(errors.NotFound):
        pass

    class Teapot(APIError, status=418):
        pass

    assert (Gone.status, Gone.default_message) == (404, "Not Found")
    assert (Teapot.status, Teapot.default_message) == (418, "Internal Server Error")
    assert (APIError.status, APIError.default_message) == (500, "Internal Server Error")


def test_too_many_requests_carries_retry_after() -> None:
    exc = errors.TooManyRequests(retry_after=7)
    assert (exc.status, exc.message) == (429, "Too Many Requests")
    assert exc.metadata == {"retry_after": 7} and exc.headers == {"retry-after": "7"}


def test_store_errors_are_one_family() -> None:
    assert issubclass(errors.StoreUnavailable, errors.StoreError)
    assert issubclass(errors.SchemaOutOfDate, errors.StoreError)
    assert issubclass(errors.StoreError, errors.RouteyardError)


def test_the_envelope_names_the_code_and_message() -> None:
    body = json.loads(error_body(404, "Not Found"))
    assert body == {"error": {"code": 404, "message": "Not Found", "metadata": None},
                    "user_id": None}
