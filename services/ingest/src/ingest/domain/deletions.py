"""Lines the local system deleted: checked and keyed like uploaded lines. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.domain.lines import Line, Rejection, drop_repeated_lines, parse_key

UPLOADED_AND_DELETED = "uploaded_and_deleted"


@dataclass(frozen=True, slots=True)
class Deletion:
    index: int
    contract_no: str
    product_id: str


def parse_deletion(index: int, raw: object) -> Deletion | Rejection:
    if not isinstance(raw, dict):
        return Rejection(index, "not_an_object", "每项必须是 JSON 对象 / each entry must be a JSON object")
    key = parse_key(index, raw)
    return key if isinstance(key, Rejection) else Deletion(index, *key)


def parse_deletions(raw: list[object]) -> tuple[list[Deletion], list[Rejection]]:
    parsed = [parse_deletion(index, entry) for index, entry in enumerate(raw)]
    return drop_repeated_lines(
        [p for p in parsed if isinstance(p, Deletion)],
        [p for p in parsed if isinstance(p, Rejection)],
        "同一批次中重复删除同一行 / line deleted twice in this batch",
    )


def split_conflicts(
    lines: list[Line], deletions: list[Deletion]
) -> tuple[list[Line], list[Rejection], list[Deletion], list[Rejection]]:
    """A line both uploaded and deleted in one request has no meaning we could pick: reject both sides."""
    both = {(x.contract_no, x.product_id) for x in lines} & {(d.contract_no, d.product_id) for d in deletions}
    message = "同一行同时出现在 contracts 和 deleted 中 / line is both uploaded and deleted in this request"

    def rejection(index: int, key: tuple[str, str]) -> Rejection:
        return Rejection(index, UPLOADED_AND_DELETED, message, *key)

    return (
        [x for x in lines if (x.contract_no, x.product_id) not in both],
        [
            rejection(x.index, (x.contract_no, x.product_id))
            for x in lines
            if (x.contract_no, x.product_id) in both
        ],
        [d for d in deletions if (d.contract_no, d.product_id) not in both],
        [
            rejection(d.index, (d.contract_no, d.product_id))
            for d in deletions
            if (d.contract_no, d.product_id) in both
        ],
    )
