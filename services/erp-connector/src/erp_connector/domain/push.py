"""Pure parts of pushing one customer: what to write, whom to adopt, whether the save stuck."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from erp_connector.domain.customer import ErpCustomer, clean

UNIT_CUSTOMER = 1
# The documented ASP save fields of a customer (ERP_ZHIBANG.md §5). Anything else in a command is not
# sent: a real instance may reject or, worse, silently misread an undocumented id.
ASP_CUSTOMER_FIELDS = frozenset(
    {
        *("name", "pym", "khid", "sort1", "ly", "trade", "jz", "area", "bz", "credit", "cateid"),
        *("address", "zip", "url", "mobile", "phone", "fax", "email", "qq", "weixinAcc"),
        *("person_name", "part1", "job", "sex", "age", "year1", "faren", "zijin", "pernum1", "pernum2"),
        *("product", "c2", "c3", "c4", "intro", "fkdays", "fkdate"),
        *(f"bank_{i}" for i in range(1, 8)),
    }
)


class Stage(StrEnum):
    """Where a queued push resumes after a failure or a crash."""

    RESOLVE = "resolve"  # find the ERP record by our code, then by exact name, else allocate an ord
    WRITE = "write"  # save to the known or allocated ord (a save to an allocated ord inserts)
    VERIFY = "verify"  # read back and compare


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def fields_to_write(
    requested: Mapping[str, Any], defaults: Mapping[str, str], code: str | None
) -> tuple[int, dict[str, str]]:
    """(intsort, ASP field values): defaults under the request, our code in `khid` when given.

    Empty values are left out: a push never clears a field in the ERP (the ERP is the authority;
    a value missing locally is not a value to write). Undocumented field ids are left out too.
    """
    merged = {**defaults, **{k: as_text(v) for k, v in requested.items() if as_text(v)}}
    intsort_text = merged.get("intsort", "").strip()
    intsort = int(intsort_text) if intsort_text in ("1", "2") else UNIT_CUSTOMER
    fields = {k: v for k, v in merged.items() if k in ASP_CUSTOMER_FIELDS}
    if code is not None:
        fields["khid"] = code
    else:
        fields.pop("khid", None)
    return intsort, fields


def exact_code_match(candidates: Iterable[ErpCustomer], code: str) -> ErpCustomer | None:
    """The ERP's text filters are fuzzy (`KH-1` finds `KH-10`): compare exactly afterwards."""
    wanted = clean(code)
    matches = sorted((c for c in candidates if c.code == wanted), key=lambda c: c.erp_id)
    return matches[0] if matches else None


def exact_name_match(candidates: Iterable[ErpCustomer], name: str) -> ErpCustomer | None:
    """Prefer a record without a code of its own (we may claim it), then the oldest."""
    wanted = clean(name)
    matches = [c for c in candidates if c.name == wanted and wanted is not None]
    matches.sort(key=lambda c: (c.code is not None, c.erp_id))
    return matches[0] if matches else None


def mismatched_fields(written: Mapping[str, str], stored: Mapping[str, Any]) -> list[str]:
    """Written fields whose stored value differs. A field the read-back view lacks cannot be
    checked and is skipped; both sides are trimmed and "" equals missing."""
    return sorted(
        name for name, value in written.items() if name in stored and clean(value) != clean(stored[name])
    )


class Origin(StrEnum):
    """How a queued customer got its ERP ord."""

    REQUEST = "request"  # the command named it (an update)
    CODE = "code"  # found by our code in khid, or created by us and verified
    NAME = "name"  # found by exact company name
    ALLOCATED = "allocated"  # allocated by us; a save to it inserts, so retries never duplicate


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One CustomerSyncRequested as received, with the original bytes for the dead-letter topic."""

    customer_id: str
    code: str
    action: str
    erp_id: int | None
    version: int
    fields: dict[str, Any]
    event_id: str
    command: bytes
    headers: dict[str, str]
    rule: str = ""
    reason: str = ""
    replay: bool = False  # re-published from the dead-letter topic by an operator (common.replay)


@dataclass(slots=True)
class PushItem:
    """A claimed queue row: the newest requested version of one customer, and how far it got."""

    customer_id: str
    version: int
    stage: Stage
    erp_id: int | None
    origin: Origin | None
    write_code: bool
    attempts: int
    read_failures: int
    claim_token: str
    request: PushRequest
    last_error: str | None = None

    @property
    def name(self) -> str | None:
        return clean(self.request.fields.get("name"))

    def write_plan(self, create_defaults: Mapping[str, str]) -> tuple[int, dict[str, str]]:
        """Defaults only for records we create; our code only where the record has no other code."""
        defaults = create_defaults if self.origin is Origin.ALLOCATED else {}
        return fields_to_write(self.request.fields, defaults, self.request.code if self.write_code else None)
