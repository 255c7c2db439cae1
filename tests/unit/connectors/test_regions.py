import json
from pathlib import Path

import pytest

from connectors.genesys.regions import API_HOSTS, bases_for, login_base_for

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared/reference/genesys-cloud-api.json"


@pytest.fixture(scope="module")
def reference_regions():
    if not REFERENCE.exists():
        pytest.skip(f"reference not found at {REFERENCE}")
    return json.loads(REFERENCE.read_text())["regions"]


def test_region_table_equals_the_reference(reference_regions):
    assert {r["sdkName"]: r["apiHost"] for r in reference_regions} == API_HOSTS


def test_login_host_derivation_matches_the_reference(reference_regions):
    for region in reference_regions:
        assert login_base_for(region["apiHost"]) == region["loginHost"]


def test_bases_for_accepts_region_names_and_domains():
    expected = ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")
    assert bases_for("eu_west_1") == expected
    assert bases_for("mypurecloud.ie") == expected


def test_unknown_regions_and_non_api_hosts_are_rejected():
    with pytest.raises(ValueError):
        bases_for("example.com")
    with pytest.raises(ValueError):
        login_base_for("https://apps.mypurecloud.ie")
