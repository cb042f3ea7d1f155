"""Credentials: the contract's forms, and secrets never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wk_widget as wk
from wk_widget.errors import CredentialsError, RemoteDatasetError, scrub
from wk_widget.storage import coerce_credentials, credentials_from_dict


def test_forms_and_repr_hide_secrets(tmp_path: Path) -> None:
    basic = credentials_from_dict({"type": "http_basic", "username": "u", "password": "pw-secret-1"})
    bearer = credentials_from_dict({"type": "http_bearer", "token": "tok-secret-2"})
    s3 = credentials_from_dict(
        {"type": "s3", "access_key_id": "AKIAX", "secret_access_key": "s3-secret-3", "endpoint_url": "http://h:1"}
    )
    gcs = credentials_from_dict({"type": "gcs", "service_account": {"type": "service_account", "private_key": "pk-secret-4"}})
    assert basic == wk.HttpBasicAuth("u", "pw-secret-1")
    assert bearer == wk.HttpBearerToken("tok-secret-2")
    assert isinstance(s3, wk.S3Credentials) and s3.endpoint_url == "http://h:1"
    assert isinstance(gcs, wk.GcsCredentials)
    for creds, secret in [(basic, "pw-secret-1"), (bearer, "tok-secret-2"), (s3, "s3-secret-3"), (gcs, "pk-secret-4")]:
        assert secret not in repr(creds)
        assert secret not in str(creds)
        assert secret not in scrub(f"oops {secret} leaked")
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"type": "http_bearer", "token": "tok-secret-2"}))
    assert coerce_credentials(path) == bearer
    assert coerce_credentials({"type": "gcs", "token": "anon"}) == wk.GcsCredentials(token="anon")


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "ftp"},
        {"type": "http_basic", "username": "u"},
        {"type": "s3", "access_key_id": "a"},
        {"type": "gcs"},
        {"type": "gcs", "service_account": "{not json"},
        ["not", "an", "object"],
    ],
)
def test_bad_credentials(bad: object) -> None:
    with pytest.raises(CredentialsError):
        credentials_from_dict(bad)  # type: ignore[arg-type]


def test_error_messages_scrub_urls_and_secrets() -> None:
    wk.HttpBasicAuth("bob", "hunter2-very-secret")
    err = RemoteDatasetError("https://bob:hunter2-very-secret@host/x?X-Amz-Signature=abc123&y=1", "denied hunter2-very-secret")
    text = str(err)
    assert "hunter2-very-secret" not in text
    assert "abc123" not in text
    assert "host/x" in text and "y=1" in text
