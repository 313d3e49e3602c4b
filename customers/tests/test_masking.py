"""Masking of e-mail and phone (DPP4): what roles without sight of personal data see."""

from __future__ import annotations

import pytest

from customers.masking import mask_email, mask_phone


@pytest.mark.parametrize(
    ("value", "masked"),
    [("chan.taiman@gmail.com", "c***@gmail.com"), ("", ""), ("chan at gmail", "****"), ("@x.hk", "***@x.hk")],
)
def test_e_mail(value, masked):
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+852 9123 5678", "+852 ****5678"),
        ("+85291235678", "+852 ****5678"),
        ("9123 5678", "****5678"),
        ("123", "****"),
        ("", ""),
    ],
)
def test_phone(value, masked):
    assert mask_phone(value) == masked
