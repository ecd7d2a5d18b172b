"""Checks shared by component argument dataclasses: one wording for the same mistake everywhere."""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# Stricter than DNS_LABEL (starts with a letter, 2-32 characters); the components that checked
# their environment this way keep doing so.
ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
EKS_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")


def check_environment(value: object) -> None:
    if not isinstance(value, str) or not DNS_LABEL.fullmatch(value):
        raise ValueError(f"environment: must be a DNS label such as prod (got {value!r})")


def check_region(value: object) -> None:
    if not isinstance(value, str) or not AWS_REGION.fullmatch(value):
        raise ValueError(f"region: must be an AWS region name such as us-east-1 (got {value!r})")


def check_environment_name(value: object) -> None:
    if not isinstance(value, str) or not ENVIRONMENT_NAME.fullmatch(value):
        raise ValueError(f"environment: must be lowercase letters, digits and '-' (got {value!r})")


def check_cluster_name(value: object) -> None:
    if not isinstance(value, str) or not EKS_CLUSTER_NAME.fullmatch(value):
        raise ValueError(f"cluster_name: must be an EKS cluster name (got {value!r})")
