"""Credentials from storage_options never reach an error message, a traceback, a log or a repr."""

from __future__ import annotations

import logging
import traceback

import pytest

from dc43_delta_store import DeltaContractStore, StoreUnavailableError
from dc43_delta_store.table.location import TableLocation, describe

from .conftest import minimal

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAVERYSECRETKEYID",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-very-secret",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr-session-token",
}
OPTIONS = {
    **SECRETS,
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
    "AWS_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
    "max_retries": "1",
}


def assert_clean(text: str) -> None:
    for value in SECRETS.values():
        assert value not in text


def test_unreachable_store_errors_name_the_table_and_the_cause_but_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    store = DeltaContractStore(path="s3://contracts-bucket/contracts", storage_options=OPTIONS)
    assert_clean(repr(store) + repr(store.location) + str(store.location))
    for call in (lambda: store.latest("a"), lambda: store.put(minimal()), store.list_contracts):
        with pytest.raises(StoreUnavailableError) as caught:
            call()
        message = str(caught.value)
        assert "s3://contracts-bucket/contracts" in message
        assert "Connection refused" in message
        assert_clean(message)
        assert_clean("".join(traceback.format_exception(caught.value)))
    assert_clean(caplog.text)


def test_secrets_in_an_engine_message_are_redacted() -> None:
    error = RuntimeError(
        "Kernel error\n  \x1b[31m\u21b3\x1b[0m 403 Forbidden: InvalidAccessKeyId AKIAVERYSECRETKEYID"
    )
    text = describe(error, TableLocation("s3://b/t", OPTIONS))
    assert text == "Kernel error -> 403 Forbidden: InvalidAccessKeyId ***"
