from __future__ import annotations

import base64

import pytest

from backend_client.auth import BAD_CREDENTIALS, LOGIN_NEEDED, Credentials, LoginFailed


def test_password_first_then_token() -> None:
    c = Credentials(user="duty1", password="s3cret pass")
    name, value = c.header() or ("", "")
    assert name == "Authorization"
    assert base64.b64decode(value.removeprefix("Basic ")) == b"duty1:s3cret pass"
    c.token = "tok123"
    assert c.header() == ("Authorization", "Bearer tok123")


def test_rejected_token_falls_back_to_password() -> None:
    c = Credentials(user="u", password="p", token="old")
    c.on_rejected()
    assert c.token is None
    assert c.header() is not None
    assert c.header()[1].startswith("Basic ")


def test_rejected_token_without_password_needs_login() -> None:
    c = Credentials(user="u", token="old")
    with pytest.raises(LoginFailed) as ei:
        c.on_rejected()
    assert ei.value.code == LOGIN_NEEDED


def test_rejected_password_is_bad_credentials_not_a_retry() -> None:
    c = Credentials(user="u", password="wrong")
    with pytest.raises(LoginFailed) as ei:
        c.on_rejected()
    assert ei.value.code == BAD_CREDENTIALS


def test_forget_drops_secrets() -> None:
    c = Credentials(user="u", password="p", token="t")
    c.forget()
    assert c.header() is None
