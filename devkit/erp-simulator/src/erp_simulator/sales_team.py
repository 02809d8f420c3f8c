"""The ERP's 销售人员 directory: customers and contracts belong to one of these people."""

from collections.abc import Iterable
from dataclasses import dataclass

_BASE_MEMBERS = ("陈静", "王磊", "刘洋", "赵敏", "孙浩")
_FIRST_ID = 11


@dataclass(frozen=True)
class SalesTeam:
    members: tuple[tuple[str, str], ...]  # (cateid, name)

    def name_of(self, cateid: str) -> str:
        return next((name for member_id, name in self.members if member_id == cateid), "")

    def id_of(self, name: str) -> str:
        return next((member_id for member_id, member in self.members if member == name), "")

    def ids(self) -> list[str]:
        return [member_id for member_id, _ in self.members]


def build_sales_team(user_sales_people: Iterable[str]) -> SalesTeam:
    names = list(_BASE_MEMBERS)
    names += [name for name in dict.fromkeys(user_sales_people) if name not in names]
    return SalesTeam(tuple((str(_FIRST_ID + i), name) for i, name in enumerate(names)))
