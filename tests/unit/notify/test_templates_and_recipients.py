"""Jinja2 templates (one per notice type, Chinese, with the numbers that matter) and the
recipients' CSV import."""

from __future__ import annotations

import uuid

import pytest

from services.notify.domain.notices import NoticeType
from services.notify.recipients import CsvError, parse_csv
from services.notify.samples import sample
from services.notify.texts import local_time, notice_body


@pytest.mark.parametrize("type_", list(NoticeType))
def test_every_notice_type_renders_its_template_in_chinese(type_: NoticeType) -> None:
    body = notice_body(sample(type_), uuid.uuid4(), "蓬江区")
    assert body["title"] and body["text"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"])


@pytest.mark.parametrize(
    ("type_", "numbers"),
    [
        (NoticeType.SUPERVISION, ["JM-2018-000123", "2018年5月5日 09:00"]),
        (NoticeType.REMINDER, ["JM-2018-000123", "16 小时"]),
        (NoticeType.OVERDUE, ["JM-2018-000123"]),
        (NoticeType.RATE_REPORT, ["90.32%", "第 3 位"]),
        (NoticeType.CRITICISM, ["90.32%", "连续第 2 期", "通报批评"]),
        (NoticeType.TALK, ["组织部门约谈"]),
        (NoticeType.CORRECTION, ["第 1 版", "市领导约谈同时取消"]),
        (NoticeType.AWARD, ["70943.39 元"]),
        (NoticeType.FINANCE_SUMMARY, ["150943.39", "4679245.42", "| dist-pengjiang | 80000.00 |"]),
    ],
)
def test_the_numbers_that_matter_are_in_the_text(type_: NoticeType, numbers: list[str]) -> None:
    text = notice_body(sample(type_), uuid.uuid4(), "蓬江区")["text"]
    for number in numbers:
        assert number in text


def test_deadlines_are_written_in_beijing_time() -> None:
    assert local_time("2018-05-04T17:30:00+00:00") == "2018年5月5日 01:30"


HEADER = "recipient,name,contact_name,contact_phone,channel,kind,url,secret\n"


def test_a_csv_groups_lines_by_recipient_into_contacts_and_channels() -> None:
    parsed = parse_csv(
        HEADER + "unit:dist-pengjiang,蓬江区,李四,13800000000,wecom,wecom,"
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1,\n"
        "unit:dist-pengjiang,蓬江区,王五,,,,,\n"
        "office:finance_office,市财政局,,,ding,dingtalk,"
        "https://oapi.dingtalk.com/robot/send?access_token=t,SECabc\n"
    )
    assert set(parsed) == {"unit:dist-pengjiang", "office:finance_office"}
    assert [c.name for c in parsed["unit:dist-pengjiang"].contacts] == ["李四", "王五"]
    ding = parsed["office:finance_office"].channels[0]
    assert ding.kind == "dingtalk" and ding.secret is not None
    assert "SECabc" not in repr(parsed)  # SecretStr


def test_a_csv_with_bad_lines_is_refused_whole_and_names_them() -> None:
    with pytest.raises(CsvError) as refused:
        parse_csv(
            HEADER
            + "unit:Bad Id,x,,,,,,\n"
            + "unit:dept-a,部门,,,hook,webhook,https://example.com/hook,not-a-whsec\n"
        )
    lines = sorted(e["lines"][0] for e in refused.value.errors)
    assert lines == [2, 3]
    assert all("not-a-whsec" not in str(e) for e in refused.value.errors)


def test_a_csv_needs_the_documented_header() -> None:
    with pytest.raises(CsvError, match="invalid"):
        parse_csv("who,what\nx,y\n")
