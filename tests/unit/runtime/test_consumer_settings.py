"""Which settings of an existing durable consumer the runtime changes (consumer_settings.py)."""

from __future__ import annotations

from nats.js.api import ConsumerConfig, DeliverPolicy

from services.runtime.consumer_settings import changed_settings


def test_only_the_updatable_settings_that_differ_are_changed() -> None:
    current = ConsumerConfig(
        durable_name="ranking-issues",
        filter_subject="issues.v1.>",
        deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=1500,
        ack_wait=30.0,
        max_deliver=-1,
    )
    wanted = ConsumerConfig(
        durable_name="ranking-issues",
        deliver_policy=DeliverPolicy.NEW,  # not updatable: never sent
        max_ack_pending=3500,
        ack_wait=30.0,
        max_deliver=-1,
    )
    assert changed_settings(current, wanted) == {"max_ack_pending": 3500}


def test_a_durable_with_the_settings_already_needs_no_change() -> None:
    config = ConsumerConfig(durable_name="d", max_ack_pending=100, ack_wait=30.0, max_deliver=-1)
    assert changed_settings(config, config) == {}


def test_a_setting_the_service_leaves_unset_is_not_changed() -> None:
    current = ConsumerConfig(durable_name="d", max_ack_pending=100, ack_wait=12.0)
    assert changed_settings(current, ConsumerConfig(durable_name="d", max_ack_pending=100)) == {}


def test_an_ack_wait_read_back_from_the_server_in_nanoseconds_is_the_same() -> None:
    # nats-py sends int(4.1 * 1e9) = 4099999999 ns, and gives it back divided by 1e9.
    current = ConsumerConfig(durable_name="d", ack_wait=4099999999 / 1e9)
    assert changed_settings(current, ConsumerConfig(durable_name="d", ack_wait=4.1)) == {}
