"""FastAPI dependencies: the settings, the Temporal client, database sessions and the catalog.

They are ``async def`` though none of them waits: FastAPI runs a plain ``def`` dependency in its
thread pool, a hop to a worker thread and back on every request that names it (#22 item 3)."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from domain.catalog import Catalog
from settings import Settings

RETRY_AFTER_S = "5"  # a 503's Retry-After, in seconds: a restarting Temporal or database is usually back by then


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_client(request: Request) -> Client:
    return request.app.state.temporal


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClientDep = Annotated[Client, Depends(get_client)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
