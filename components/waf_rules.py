"""Which AWS managed WAF rules the platform's web ACL counts instead of blocking (pure data).

The stack config checks `gateway.waf_rules_to_count` against these without importing the WAF
component (and the Pulumi SDK) just to read a list.
"""

from __future__ import annotations

# Common rule set rules that would block ordinary LLM traffic; counted, not blocked, with the reason.
COMMON_RULES_TO_COUNT = ("SizeRestrictions_BODY",)  # 8 KB body cap; our body-size rule replaces it
# The rules of AWSManagedRulesCommonRuleSet (AWS WAF Developer Guide, "Core rule set (CRS)").
COMMON_RULE_SET_RULES = (
    "NoUserAgent_HEADER",
    "UserAgent_BadBots_HEADER",
    "SizeRestrictions_QUERYSTRING",
    "SizeRestrictions_Cookie_HEADER",
    "SizeRestrictions_BODY",
    "SizeRestrictions_URIPATH",
    "EC2MetaDataSSRF_BODY",
    "EC2MetaDataSSRF_COOKIE",
    "EC2MetaDataSSRF_URIPATH",
    "EC2MetaDataSSRF_QUERYARGUMENTS",
    "GenericLFI_QUERYARGUMENTS",
    "GenericLFI_URIPATH",
    "GenericLFI_BODY",
    "RestrictedExtensions_URIPATH",
    "RestrictedExtensions_QUERYARGUMENTS",
    "GenericRFI_QUERYARGUMENTS",
    "GenericRFI_BODY",
    "GenericRFI_URIPATH",
    "CrossSiteScripting_COOKIE",
    "CrossSiteScripting_QUERYARGUMENTS",
    "CrossSiteScripting_BODY",
    "CrossSiteScripting_URIPATH",
)
