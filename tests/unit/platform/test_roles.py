"""Role mapping decisions: first rule that holds, any-of values, AND across conditions, and
what the host did not say (a best-effort expand) is unknown, never false."""

from __future__ import annotations

import pytest

from extension.platform import roles
from extension.platform.errors import Invalid

MAPPING = roles.validate_mapping({"rules": [
    {"role": "admin", "when": {"host_roles": ["Master Admin"]}},
    {"role": "manager", "when": {"permissions": ["quality:evaluation:assign"], "direct_reports": True}},
    {"role": "supervisor", "when": {"direct_reports": True}},
    {"role": "qa_analyst", "when": {"permissions": ["quality:*"], "groups": ["qa team"]}},
], "default": "agent"})


def facts(*, roles_=(), permissions=(), groups=(), reports=False, said=True):
    user = {"directReports": []}
    if said:
        user["authorization"] = {"roles": [{"id": f"id-{r}", "name": r} for r in roles_],
                                 "permissions": list(permissions)}
        user["groups"] = [{"id": f"g-{g}", "name": g} for g in groups]
    return roles.facts_of(user, direct_reports=reports)


@pytest.mark.parametrize(("kwargs", "role", "rule"), [
    ({"roles_": ["master admin"], "reports": True}, "admin", 0),
    ({"roles_": ["x"], "permissions": ["quality:evaluation:assign"], "reports": True}, "manager", 1),
    ({"permissions": ["quality:evaluation:assign"]}, "agent", None),
    ({"reports": True}, "supervisor", 2),
    ({"permissions": ["quality:evaluation:add"], "groups": ["QA Team"]}, "qa_analyst", 3),
    ({"permissions": ["quality:evaluation:add"]}, "agent", None),
    ({"permissions": ["quality:*:*"], "groups": ["qa team"]}, "qa_analyst", 3),
    ({"roles_": ["id-x"]}, "agent", None),
])
def test_the_first_rule_that_holds_decides(kwargs, role, rule):
    assert roles.decide(MAPPING, facts(**kwargs)) == roles.Decision(role, rule)


def test_roles_and_groups_match_by_id_too():
    mapping = roles.validate_mapping({"rules": [{"role": "admin", "when": {"host_roles": ["ID-BOSS"]}}]})
    assert roles.decide(mapping, facts(roles_=["boss"])).role == "admin"


def test_what_the_host_did_not_say_is_unknown():
    unsaid = facts(said=False)
    assert unsaid.roles is None and unsaid.permissions is None and unsaid.groups is None
    # the first rule asks about host roles: a stored person keeps their role
    assert roles.decide(MAPPING, unsaid) == roles.Decision(None, None)
    # a new person gets the rules with unknown conditions read as false
    assert roles.decide(MAPPING, unsaid, unknown_is_false=True) == roles.Decision("agent", None)
    reports = roles.facts_of({}, direct_reports=True)
    assert roles.decide(MAPPING, reports, unknown_is_false=True).role == "supervisor"
    # a definite "no" before the unknown still decides
    mapping = roles.validate_mapping({"rules": [
        {"role": "supervisor", "when": {"direct_reports": True}},
        {"role": "qa_analyst", "when": {"groups": ["qa"]}}]})
    assert roles.decide(mapping, roles.facts_of({}, direct_reports=True)).role == "supervisor"
    assert roles.decide(mapping, roles.facts_of({}, direct_reports=False)).role is None


def test_direct_reports_from_users_me():
    said = roles.facts_of({"directReports": [{"id": "u1"}]}, direct_reports=False)
    assert said.direct_reports is True


def test_the_default_mapping_is_valid():
    assert roles.validate_mapping(roles.DEFAULT_MAPPING) == roles.DEFAULT_MAPPING


def test_invalid_mappings_name_the_field():
    with pytest.raises(Invalid) as caught:
        roles.validate_mapping({"rules": [{"role": "boss", "when": {"permissions": ["a b"]}}]})
    assert {e["field"] for e in caught.value.errors} == {"rules.0.role", "rules.0.when.permissions.0"}
