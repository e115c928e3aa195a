"""The plan as data: playbooks and the team (without contacts)."""

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.deps import CatalogDep
from domain.durations import format_duration
from domain.playbook import Playbook

router = APIRouter(tags=["playbooks"])


class PlaybookSummary(BaseModel):
    id: str
    name: str
    scenario: str
    description: str
    default_severity: str
    languages: list[str]
    paged_roles: list[str]
    approvers: list[str]
    tasks: int


class TeamMember(BaseModel):
    id: str
    name: str
    roles: list[str]
    timezone: str


class TeamLevel(BaseModel):
    people: list[str]
    channels: list[str]
    wait: str | None = Field(description="Wait before the next level; null: the playbook's acknowledge_within.")


class TeamRole(BaseModel):
    name: str
    description: str
    members: list[str] = Field(description="Everyone the role's policy pages, in order; each may act in the role.")
    levels: list[TeamLevel]
    repeat: int | None


class Team(BaseModel):
    organization: str
    people: list[TeamMember]
    roles: list[TeamRole]


@router.get("/playbooks", response_model=list[PlaybookSummary])
async def list_playbooks(catalog: CatalogDep) -> list[PlaybookSummary]:
    return [
        PlaybookSummary(
            id=p.id,
            name=p.name,
            scenario=p.scenario.value,
            description=p.description,
            default_severity=p.default_severity.value,
            languages=p.languages,
            paged_roles=p.identify.page,
            approvers=p.communicate.approvers,
            tasks=len(p.respond.tasks),
        )
        for p in sorted(catalog.playbooks.values(), key=lambda p: p.id)
    ]


@router.get("/playbooks/{playbook_id}", response_model=Playbook, responses={404: {"description": "No such playbook"}})
async def get_playbook(playbook_id: str, catalog: CatalogDep) -> Playbook:
    playbook = catalog.playbooks.get(playbook_id)
    if playbook is None:
        raise HTTPException(404, f"playbook '{playbook_id}' does not exist (known: {', '.join(sorted(catalog.playbooks))})")
    return playbook


@router.get("/team", response_model=Team, tags=["team"])
async def team(catalog: CatalogDep) -> Team:
    """Who is on the crisis team and in which order each role is paged; contacts are never shown."""
    roster = catalog.roster
    chart = roster.org_chart()
    roles = []
    for name, role in roster.roles.items():
        policy = chart.policy(name)
        levels = [
            TeamLevel(people=level.people, channels=level.channels, wait=format_duration(level.wait) if level.wait else None)
            for level in policy.levels
        ]
        roles.append(
            TeamRole(name=name, description=role.description, members=chart.members(name), levels=levels, repeat=policy.repeat)
        )
    return Team(
        organization=roster.organization.name,
        people=[TeamMember(id=p.id, name=p.name, roles=p.roles, timezone=p.timezone) for p in roster.people],
        roles=roles,
    )
