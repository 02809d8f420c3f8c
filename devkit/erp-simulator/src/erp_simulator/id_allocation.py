"""Record ids (``ord``) handed out by the ERP before a record is saved."""


class IdAllocator:
    def __init__(self, next_id: int) -> None:
        self._next_id = next_id
        # Allocated by add.asp but not yet saved: such ids exist nowhere in a list.
        self._pending: set[int] = set()

    def allocate(self) -> int:
        new_id = self.take()
        self._pending.add(new_id)
        return new_id

    def take(self) -> int:
        """An id used at once, by bulk inserts and by saves that allocate implicitly."""
        new_id = self._next_id
        self._next_id += 1
        return new_id

    def is_pending(self, record_id: int) -> bool:
        return record_id in self._pending

    def consume(self, record_id: int) -> None:
        self._pending.discard(record_id)

    def skip_to(self, next_id: int) -> None:
        self._next_id = max(self._next_id, next_id)
