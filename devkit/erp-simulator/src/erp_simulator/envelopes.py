"""The ZBDocument envelopes of both API styles (ERP_ZHIBANG.md section 4)."""

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from erp_simulator.errors import AspStatus

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
Json = dict[str, Any]


class JsonResponse(Response):
    media_type = JSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        # orjson writes Chinese as UTF-8 rather than \u escapes, as the ERP does.
        return orjson.dumps(content)


def asp_ok(body: Json | None = None, message: str = "") -> Json:
    envelope: Json = {"header": {"status": int(AspStatus.OK), "message": message}}
    if body is not None:
        envelope["body"] = body
    return envelope


def asp_failure(status: AspStatus, message: str) -> Json:
    return {"header": {"status": int(status), "message": message}}


def message_class(title: str, text: str = "", data: Any = "") -> Json:
    return {
        "message": {
            "title": title,
            "text": text,
            "url": "",
            "wait": 0,
            "target": "",
            "uitype": "message",
            "data": data,
        }
    }


def bill_class(bill_id: str, caption: str, value: int, groups: list[Json]) -> Json:
    return {
        "bill": {
            "id": bill_id,
            "caption": caption,
            "uitype": "bill",
            "value": value,
            "tools": [],
            "groups": groups,
        }
    }


def source_table(cols: Sequence[tuple[str, str]], rows: list[Any], pagecount: int) -> Json:
    return {
        "source": {
            "type_": "table",
            "uitype": "list",
            "table": {
                "cols": [{"id": col_id, "caption": caption} for col_id, caption in cols],
                "rows": rows,
                "page": {"pagecount": pagecount},
            },
        }
    }


def source_skeleton(caption: str, search_fields: Sequence[str]) -> Json:
    """What a list page returns without ``cmdkey=refresh``: the UI frame, no table."""
    return {
        "source": {
            "type_": "table",
            "uitype": "list",
            "caption": caption,
            "searchs": [{"id": field_id} for field_id in search_fields],
        }
    }


def source_options(options: Sequence[tuple[int, str]]) -> Json:
    return {
        "source": {
            "type_": "options",
            "uitype": "select",
            "options": [{"value": value, "text": text} for value, text in options],
        }
    }


def v3(code: int, msg: str, data: Any = None) -> Json:
    return {"Code": code, "Msg": msg, "Data": data}
