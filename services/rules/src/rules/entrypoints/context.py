"""What routes are given, built by `rules.bootstrap` and reached through the typed dependencies in `http.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.bearer import TokenVerifier
    from rules.service_layer.decisions import Deps
    from rules.service_layer.ports import AbstractCustomerReads, UnitOfWorkFactory
    from rules.service_layer.rulebook_cache import RuleBookCache


@dataclass(frozen=True, slots=True)
class Context:
    tokens: TokenVerifier  # common.bearer reads it at app.state.ctx.tokens
    rulebook: RuleBookCache
    deps: Deps  # the consumers' decision path, for the writes of operators and sales staff
    uow: UnitOfWorkFactory
    reads: AbstractCustomerReads
