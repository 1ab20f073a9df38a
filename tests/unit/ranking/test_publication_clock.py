"""R4.1: an edition is published only once its cutoff has passed, by the service's own clock
(injected, so that tests set it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from services.ranking.domain.rules import RankingRules
from services.ranking.editions import EditionsService, FutureCutoff

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2018, 6, 4, 9, tzinfo=SHANGHAI)


async def test_a_cutoff_after_now_is_refused_before_anything_is_read() -> None:
    # No runtime: the refusal comes before any database or stream is touched.
    editions = EditionsService(
        runtime=cast(Any, None), rules=RankingRules(version="v1"), tz=SHANGHAI, now=lambda: NOW
    )
    with pytest.raises(FutureCutoff, match="in the future"):
        await editions.publish(NOW + timedelta(seconds=1))
    with pytest.raises(FutureCutoff):
        await editions.publish(NOW + timedelta(days=400), scheduled=True, force=True)
