"""The kiosk registry (issue 12, part 1) on both databases: enrolled by one replica, checked by another, and
a revocation by one refused at once by the other (two Store objects are two replicas to the database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.services.backend.clock import ManualClock
from kiosk.services.backend.kiosks import Credential, KioskRegistry, KioskRegistryError, Verdict, parse_credential

from .places import Place

CLOCK = ManualClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


async def test_a_kiosk_enrolled_and_revoked_on_one_replica_is_so_on_the_other(place: Place) -> None:
    async with place.store() as first, place.store() as second:
        here, there = KioskRegistry(first, CLOCK), KioskRegistry(second, CLOCK)
        credential = await here.add("lobby-1")
        assert await there.check(credential) is Verdict.OK
        assert await there.check(Credential("lobby-1", credential.secret + "x")) is Verdict.WRONG_SECRET
        assert await there.check(Credential("lobby-2", credential.secret)) is Verdict.UNKNOWN
        assert await there.check(parse_credential("lobby-1")) is Verdict.MALFORMED
        with pytest.raises(KioskRegistryError, match="already exists"):
            await there.add("lobby-1")
        await there.revoke("lobby-1")
        assert await here.check(credential) is Verdict.REVOKED  # no cache: the very next check
        (entry,) = await here.entries()
        assert (entry.name, entry.created_at, entry.revoked_at) == ("lobby-1", *[CLOCK.now().isoformat()] * 2)
