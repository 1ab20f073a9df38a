"""Which services' outbox relays may let a later event overtake a failed publish (outbox.py)."""

from __future__ import annotations

from services.incentives.settings import IncentivesSettings
from services.issues.settings import IssuesSettings
from services.notify.settings import NotifySettings
from services.ranking.settings import RankingSettings


def test_ranking_incentives_and_notify_publish_one_at_a_time_in_outbox_order() -> None:
    # R6.2: editions are settled in the order of their first revisions on RANKING, so ranking's
    # relay never lets a later row overtake a failed one; incentives and notify keep the default.
    for settings in (RankingSettings(), IncentivesSettings(), NotifySettings()):
        assert settings.outbox_in_flight == 1


def test_the_issues_relay_sends_its_whole_batch_before_awaiting_acks() -> None:
    # Issue events are taken in any order (ranking's facts, notify's tracked issues).
    assert IssuesSettings().outbox_in_flight == 100
