"""API keys as stored: a keyed hash, never the key."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from service.db.metadata import table_of
from service.db.types import UTCDateTime


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: UUID = Field(primary_key=True)
    name: str = Field(max_length=200, unique=True)
    prefix: str = Field(max_length=32)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(max_length=200, description="Space-separated scopes.")
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


API_KEYS = table_of(ApiKeyRow)
