"""The one interface every sender implements."""

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field


class ChannelKind(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    PUBLIC = "public"


class Link(BaseModel):
    label: str
    url: str


class OutgoingMessage(BaseModel):
    ledger_key: str = Field(description="Stable across retries of the same send: workflow id + activity id + kind.")
    incident_id: str
    person_id: str | None
    kind: str
    channel: ChannelKind
    address: str | None = Field(None, description="Phone or email; never stored by crisisflow.")
    subject: str
    body: str
    links: list[Link] = Field(default_factory=list)
    drill: bool = False


class Delivery(BaseModel):
    channel: str
    accepted: bool
    duplicate: bool = False
    provider_id: str | None = None


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> Delivery: ...
