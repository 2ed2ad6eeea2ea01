"""Credentials from storage_options never reach an error message, a traceback, a log or a repr.

The engines' own errors may carry them: AWS S3 repeats the access key id of a request it
refuses, and the session token it could not use. ``s3_with_auth`` is moto checking
credentials, behind a proxy that completes its refusals as AWS writes them; the raw deltalake
error then holds the secret, and the store's message must not.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from deltalake import DeltaTable

from dc43_delta_store import DeltaContractStore, StoreUnavailableError
from dc43_delta_store.cli import cli
from dc43_delta_store.table.location import TableLocation, describe

from .conftest import minimal
from .servers import AuthenticatingS3

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


# deltalake's (object_store's) names for secrets, with their aliases
SECRET_OPTIONS = [
    "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key",
    "AWS_SESSION_TOKEN",
    "aws_token",
    "azure_storage_account_key",
    "account_key",
    "azure_client_secret",
    "client_secret",
    "azure_storage_sas_key",
    "sas_token",
    "azure_storage_token",
    "bearer_token",
    "google_service_account_key",
    "service_account_key",
]


@pytest.mark.parametrize("name", SECRET_OPTIONS)
def test_every_kind_of_secret_option_is_redacted(name: str) -> None:
    value = "s3cr3t-" + name.lower()
    options = {name: value, "AWS_ENDPOINT_URL": "http://minio.internal:9000"}
    error = RuntimeError(f"request with {value} to http://minio.internal:9000 refused")
    text = describe(error, TableLocation("s3://b/t", options))
    assert value not in text and "***" in text
    assert "http://minio.internal:9000" in text  # what is not secret stays, to debug with


WRONG_KEY_ID = "AKIAVERYSECRETKEYID"
WRONG_SECRET = "wJalrXUtnFEMI-very-secret"
TOKEN = "FwoGZXIvYXdzEJr-session-token"


def refused(server: AuthenticatingS3, wrong: str) -> tuple[dict[str, str], str, str]:
    """Storage options with one wrong credential, the secret the refusal repeats, its code."""
    options = server.options(AWS_ENDPOINT_URL=server.aws_errors, max_retries="0")
    if wrong == "access key id":
        return {**options, "AWS_ACCESS_KEY_ID": WRONG_KEY_ID}, WRONG_KEY_ID, "InvalidAccessKeyId"
    if wrong == "secret key":  # the refusal names the (valid, secret) key id the request used
        return (
            {**options, "AWS_SECRET_ACCESS_KEY": WRONG_SECRET},
            server.access_key,
            "SignatureDoesNotMatch",
        )
    return {**options, "AWS_SESSION_TOKEN": TOKEN}, TOKEN, "InvalidToken"


@pytest.mark.parametrize("wrong", ["access key id", "secret key", "session token"])
def test_a_refusal_that_repeats_a_credential_reaches_the_user_without_it(
    s3_with_auth: AuthenticatingS3, wrong: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    uri = f"s3://{s3_with_auth.bucket_name}/secrets-{wrong.replace(' ', '-')}"
    good = DeltaContractStore(path=uri, storage_options=s3_with_auth.options(), validation="off")
    good.put(minimal())
    options, secret, code = refused(s3_with_auth, wrong)
    with pytest.raises(OSError) as raw:  # the engine's own error carries the secret
        DeltaTable(uri, storage_options=options)
    assert secret in str(raw.value) and code in str(raw.value)

    store = DeltaContractStore(path=uri, storage_options=options, validation="off")
    calls: list[Callable[[], Any]] = [
        lambda: store.latest("sales.orders"),
        lambda: store.put(minimal("other")),
        store.list_contracts,
        lambda: store.get("sales.orders", "1.0.0", as_of=0),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailableError) as caught:
            call()
        message = str(caught.value)
        assert uri in message and code in message  # the table, and why it was refused
        assert secret not in message
        assert secret not in "".join(traceback.format_exception(caught.value))
    assert secret not in caplog.text + repr(store) + repr(store.location)

    command = ["--path", uri, *(f"--storage-option={k}={v}" for k, v in options.items())]
    result = CliRunner().invoke(cli, [*command, "latest", "sales.orders"])
    assert result.exit_code == 6, result.output
    assert code in result.stderr and secret not in result.stderr + result.stdout
    assert good.latest("sales.orders")["version"] == "1.0.0"  # nothing was written
    assert good.list_contracts() == ["sales.orders"]


@pytest.mark.parametrize("value", ["pw42", "hunt3r", "minio12"])
def test_a_short_secret_is_redacted_too(value: str) -> None:
    """A test MinIO's password or a short SAS signature is as secret as a long key."""
    options = {"AWS_SECRET_ACCESS_KEY": value, "AWS_ENDPOINT_URL": "http://minio.internal:9000"}
    error = RuntimeError(f"signature for secret {value} refused by http://minio.internal:9000")
    text = describe(error, TableLocation("s3://b/t", options))
    assert value not in text and text.count("***") == 1


def test_a_secret_that_contains_another_is_redacted_whole() -> None:
    """The longest secret is replaced first: a shorter one inside it must not leave the
    rest of the longer one readable."""
    options = {"AWS_SECRET_ACCESS_KEY": "wJalr", "AWS_SESSION_TOKEN": "wJalr-session-rest"}
    error = RuntimeError("InvalidToken wJalr-session-rest (signed with wJalr)")
    text = describe(error, TableLocation("s3://b/t", options))
    assert text == "InvalidToken *** (signed with ***)"
