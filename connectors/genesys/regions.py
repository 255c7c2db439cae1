"""Genesys Cloud regions: API host per region, and the login host derived from it.

Copied from the reference's `regions` (SDK PureCloudRegionHosts 269); a unit test keeps this
table equal to the reference, so a new region is added here and nowhere else.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

API_HOSTS: dict[str, str] = {
    "us_east_1": "https://api.mypurecloud.com",
    "eu_west_1": "https://api.mypurecloud.ie",
    "ap_southeast_2": "https://api.mypurecloud.com.au",
    "ap_northeast_1": "https://api.mypurecloud.jp",
    "eu_central_1": "https://api.mypurecloud.de",
    "us_west_2": "https://api.usw2.pure.cloud",
    "ca_central_1": "https://api.cac1.pure.cloud",
    "ap_northeast_2": "https://api.apne2.pure.cloud",
    "eu_west_2": "https://api.euw2.pure.cloud",
    "ap_south_1": "https://api.aps1.pure.cloud",
    "us_east_2": "https://api.use2.us-gov-pure.cloud",
    "sa_east_1": "https://api.sae1.pure.cloud",
    "me_central_1": "https://api.mec1.pure.cloud",
    "ap_northeast_3": "https://api.apne3.pure.cloud",
    "eu_central_2": "https://api.euc2.pure.cloud",
    "mx_central_1": "https://api.mxc1.pure.cloud",
    "ap_southeast_1": "https://api.apse1.pure.cloud",
    "eusc_de_east_1": "https://api.edee1.eusc-pure.cloud",
}


def login_base_for(api_base: str) -> str:
    """The SDK's rule: the API host with its leading "api." replaced by "login."."""
    parts = urlsplit(api_base)
    if not parts.hostname or not parts.hostname.startswith("api."):
        raise ValueError(f"not a Genesys API host: {api_base!r}")
    host = "login." + parts.netloc.removeprefix("api.")
    return urlunsplit((parts.scheme, host, "", "", ""))


def bases_for(region: str) -> tuple[str, str]:
    """(api_base, login_base) for an SDK region name ("eu_west_1") or domain ("mypurecloud.ie")."""
    api_base = API_HOSTS.get(region) or _from_domain(region)
    return api_base, login_base_for(api_base)


def _from_domain(domain: str) -> str:
    api_base = f"https://api.{domain.removeprefix('api.')}"
    if api_base not in API_HOSTS.values():
        raise ValueError(f"unknown Genesys region: {domain!r}")
    return api_base
