"""Strict where people author, lenient where histories are read.

A playbook (and a fact sheet) is refused when it carries a field the schema does not know: a typo
must not pass unnoticed. The same models are pinned into the workflow input, and Temporal decodes
that input again on every replay, for as long as the incident runs. Were they strict there too,
removing an optional field from the schema would break every incident that started with it. So
an :class:`Authored` model forbids unknown fields, except while a :class:`LenientInput` (the
workflow input) is being decoded: then fields the current code no longer has are dropped.
"""

from contextvars import ContextVar
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, model_validator

_decoding_pinned_input: ContextVar[bool] = ContextVar("decoding_pinned_input", default=False)


class Authored(BaseModel):
    """A model people write (YAML, API bodies): unknown fields are refused, by name."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _drop_fields_no_longer_known(cls, data: Any, handler: ModelWrapValidatorHandler) -> Any:
        if _decoding_pinned_input.get() and isinstance(data, dict):
            known = _known_fields(cls)
            if not data.keys() <= known:
                data = {key: value for key, value in data.items() if key in known}
        return handler(data)


@cache
def _known_fields(model: type[BaseModel]) -> frozenset[str]:
    """A model's field names and aliases: asked for every pinned model of every workflow input
    decoded (a declaration's first workflow task decodes a whole playbook), and a class's fields do
    not change."""
    return frozenset(model.model_fields) | {field.alias for field in model.model_fields.values() if field.alias}


class LenientInput(BaseModel):
    """A workflow input read back from history: the :class:`Authored` models inside it drop fields
    they no longer know instead of refusing them."""

    @model_validator(mode="wrap")
    @classmethod
    def _decode_leniently(cls, data: Any, handler: ModelWrapValidatorHandler) -> Any:
        token = _decoding_pinned_input.set(True)
        try:
            return handler(data)
        finally:
            _decoding_pinned_input.reset(token)
