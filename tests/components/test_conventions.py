"""Shared conventions: how config and the pack recognise AWS endpoints and a model's name."""

import pytest

from components import conventions


@pytest.mark.parametrize(
    ("url", "aws"),
    [
        ("https://s3.eu-west-1.amazonaws.com", True),
        ("https://bucket.vpce-0a1b.s3.us-east-1.vpce.amazonaws.com/", True),
        ("HTTPS://S3.CN-NORTH-1.AMAZONAWS.COM.CN:443", True),
        ("https://abc.lambda-url.us-east-1.on.aws", True),
        ("s3.api.aws", True),
        ("https://objects.dc1.example.internal", False),
        ("https://amazonaws.com.example.internal", False),
        ("https://notamazonaws.com", False),
    ],
)
def test_aws_endpoints_are_recognised_by_host(url, aws):
    assert conventions.is_aws_endpoint(url) is aws


def test_a_name_as_a_word():
    pattern = conventions.name_as_word("mistral-7b")
    assert pattern.search("models/mistral-7b/rev") and pattern.search("dc1-mistral-7b-deployment")
    assert not pattern.search("mistral-7bx") and not pattern.search("xmistral-7b")
