"""Playbooks folders generated for two benchmarks, each a copy of the project's own plus one playbook.

- fan-out: a team of N more people, one role each, and a playbook that pages all N roles at
  declaration. Each role's escalation has exactly one person, so every one of them is paged at
  once, on SMS and email: 2 × N provider calls.
- memory: ``technical_outage`` as it is, except that only the incident commander is paged at
  declaration (2 sends instead of 10); the incidents then wait on their acknowledge deadline like
  any other. The five-role memory row declares the copied ``technical_outage`` itself
  (``MEMORY_ROLES_PLAYBOOK``), all five roles paged.
"""

import shutil
from pathlib import Path

import yaml

from domain.catalog import ROSTER_FILE, load_catalog

FANOUT_PLAYBOOK = "fanout_team"
MEMORY_PLAYBOOK = "memory_hold"
MEMORY_SOURCE = "technical_outage"
MEMORY_ROLES_PLAYBOOK = MEMORY_SOURCE  # unchanged in the memory folder: five roles paged, 10 sends


def role_name(index: int) -> str:
    return f"bench_role_{index:03d}"


def person_id(index: int) -> str:
    return f"bench.person.{index:03d}"


def person_phone(index: int) -> str:
    return f"+1555{index:07d}"


def person_email(index: int) -> str:
    return f"{person_id(index)}@bench.example"


def fanout_playbook(people: int) -> dict:
    roles = [role_name(i) for i in range(people)]
    return {
        "id": FANOUT_PLAYBOOK,
        "name": f"Fan-out benchmark ({people} people)",
        "scenario": "technical_outage",
        "description": f"Pages {people} roles of one person each at declaration (benchmark only).",
        "default_severity": "SEV1",
        "languages": ["en"],
        "identify": {
            "page": roles,
            "commander": roles[0],
            "acknowledge_within": {"SEV1": "30m", "SEV2": "30m", "SEV3": "30m", "SEV4": "30m"},
            "repeat": 0,
        },
        "assess": {
            "questions": [{"id": "scope", "text": "What is affected?"}],
            "due_within": {"SEV1": "1h", "SEV2": "1h", "SEV3": "1h", "SEV4": "1h"},
        },
        "respond": {
            "tasks": [{"id": "confirm_scope", "title": "Confirm the scope", "owner": "engineering_on_call", "due_after": "1h"}]
        },
        "communicate": {
            "template": "technical_outage",
            "author": "comms_lead",
            "approvers": [roles[0]],
            "first_statement_within": {"SEV1": "3h", "SEV2": "3h", "SEV3": "3h", "SEV4": "3h"},
            "approval_within": {"SEV1": "10m", "SEV2": "10m", "SEV3": "10m", "SEV4": "10m"},
            "update_every": {"SEV1": "1h", "SEV2": "1h", "SEV3": "1h", "SEV4": "1h"},
        },
        "review": {"due_after": "5d", "feedback_from": ["incident_commander"]},
    }


def write_fanout_playbooks(source: Path, target: Path, people: int) -> Path:
    """Copy ``source`` to ``target``, add the team and the playbook, and validate the result."""
    shutil.copytree(source, target)
    roster_path = target / ROSTER_FILE
    roster = yaml.safe_load(roster_path.read_text(encoding="utf-8"))
    for i in range(people):
        roster["people"].append(
            {
                "id": person_id(i),
                "name": f"Bench Person {i:03d}",
                "roles": [role_name(i)],
                "phone": person_phone(i),
                "email": person_email(i),
            }
        )
        roster["roles"][role_name(i)] = {"description": "Benchmark role", "escalation": [person_id(i)]}
    roster_path.write_text(yaml.safe_dump(roster, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (target / f"{FANOUT_PLAYBOOK}.yaml").write_text(yaml.safe_dump(fanout_playbook(people), sort_keys=False), encoding="utf-8")
    catalog = load_catalog(target)  # raises CatalogError listing every problem
    assert len(catalog.playbooks[FANOUT_PLAYBOOK].identify.page) == people
    return target


def write_memory_playbooks(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` and add ``memory_hold``: technical_outage paging only its commander."""
    shutil.copytree(source, target)
    playbook = yaml.safe_load((source / f"{MEMORY_SOURCE}.yaml").read_text(encoding="utf-8"))
    playbook["id"] = MEMORY_PLAYBOOK
    playbook["name"] = f"{playbook['name']} (memory benchmark: pages the commander only)"
    commander = playbook["identify"].get("commander", "incident_commander")
    playbook["identify"]["page"] = [commander]
    playbook["communicate"]["approvers"] = [commander]
    (target / f"{MEMORY_PLAYBOOK}.yaml").write_text(
        yaml.safe_dump(playbook, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    catalog = load_catalog(target)
    assert len(catalog.playbooks[MEMORY_PLAYBOOK].identify.page) == 1
    return target
