"""frontend/hosting.yaml: the optional API origin behind the page's CloudFront distribution, and the optional per-IP
WAF rate rule on it."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from local.cfn_yaml import load_template
from local.gateway import read_routes
from tests.conftest import ROOT

ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# What `make deploy-page` uploads under the page's prefix (local/deploy_page.py)
PAGE_FILES = ["/integrations/index.html", "/integrations/config.json", "/integrations/assets/index-abc123.js"]


@pytest.fixture(scope="module")
def hosting() -> dict[str, Any]:
    return load_template(ROOT / "frontend" / "hosting.yaml")


def distribution(hosting: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = hosting["Resources"]["PageDistribution"]["Properties"]["DistributionConfig"]
    return config


def api_behaviours(hosting: dict[str, Any]) -> list[dict[str, Any]]:
    condition, behaviours, otherwise = distribution(hosting)["CacheBehaviors"]["Fn::If"]
    assert (condition, otherwise) == ("HasApiOrigin", {"Ref": "AWS::NoValue"})
    return list(behaviours)


def served_by(hosting: dict[str, Any], path: str) -> str:
    """The origin CloudFront picks for a path: the first matching behaviour, else the default (page bucket)."""
    for behaviour in api_behaviours(hosting):
        if fnmatchcase(path, behaviour["PathPattern"]):
            return str(behaviour["TargetOriginId"])
    return str(distribution(hosting)["DefaultCacheBehavior"]["TargetOriginId"])


def test_the_api_origin_is_optional_and_https_only(hosting: dict[str, Any]) -> None:
    # Given the distribution's origins
    origins = distribution(hosting)["Origins"]
    condition, api, otherwise = origins[1]["Fn::If"]
    # Then the API origin exists only with ApiDomainName, and CloudFront reaches it over TLS only
    assert hosting["Parameters"]["ApiDomainName"]["Default"] == ""
    assert hosting["Conditions"]["HasApiOrigin"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiDomainName"}, ""]}]}
    assert (condition, otherwise) == ("HasApiOrigin", {"Ref": "AWS::NoValue"})
    assert api["DomainName"] == {"Ref": "ApiDomainName"}
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_every_api_route_goes_to_the_api_and_every_page_file_to_the_bucket(hosting: dict[str, Any]) -> None:
    # Given the API's routes (template.yaml) with their variables filled, and the page's files
    api_paths = {
        route.path.replace("{integration_id}", "5f0c8e2a").replace("{wamid}", "wamid.x").replace("{event}", "e")
        for route in read_routes(ROOT / "template.yaml")
    }
    # Then CloudFront sends each route to the API and each page file to the bucket (/integrations/* would take both)
    assert {path: served_by(hosting, path) for path in api_paths} == dict.fromkeys(api_paths, "api")
    assert {path: served_by(hosting, path) for path in PAGE_FILES} == dict.fromkeys(PAGE_FILES, "page-bucket")
    assert served_by(hosting, "/integrations") == "page-bucket"


def test_api_behaviours_forward_everything_but_host_and_cache_nothing(hosting: dict[str, Any]) -> None:
    for behaviour in api_behaviours(hosting):
        # Then every method passes, nothing is cached, all headers but Host, cookies and query strings are forwarded
        # (Authorization and Meta's signature included), and plain HTTP is refused rather than redirected
        assert set(behaviour["AllowedMethods"]) == ALL_METHODS, behaviour["PathPattern"]
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert behaviour["ViewerProtocolPolicy"] == "https-only"


def test_the_per_ip_waf_rule_is_optional_and_on_the_distribution(hosting: dict[str, Any]) -> None:
    # Given the WAF parameter, its condition, the web ACL and the distribution
    parameter = hosting["Parameters"]["WafRequestsPer5MinPerIp"]
    acl = hosting["Resources"]["PerIpRateLimit"]
    (rule,) = acl["Properties"]["Rules"]
    # Then 0 (the default) means no WAF, and a limit creates a CloudFront-scoped web ACL (only possible in us-east-1,
    # which the parameter says) whose one rule blocks an IP over the limit in 5 minutes with a 429
    assert (parameter["Default"], parameter["MinValue"]) == (0, 0) and "us-east-1" in parameter["Description"]
    assert hosting["Conditions"]["HasWaf"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WafRequestsPer5MinPerIp"}, 0]}]}
    assert acl["Condition"] == "HasWaf" and acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    assert rule["Statement"]["RateBasedStatement"] == {
        "Limit": {"Ref": "WafRequestsPer5MinPerIp"},
        "EvaluationWindowSec": 300,
        "AggregateKeyType": "IP",
    }
    assert rule["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}
    assert distribution(hosting)["WebACLId"] == {
        "Fn::If": ["HasWaf", {"Fn::GetAtt": ["PerIpRateLimit", "Arn"]}, {"Ref": "AWS::NoValue"}]
    }
