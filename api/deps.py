"""FastAPI dependencies: the settings, the Temporal client, database sessions and the catalog."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from domain.catalog import Catalog
from settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_client(request: Request) -> Client:
    return request.app.state.temporal


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClientDep = Annotated[Client, Depends(get_client)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
