"""WeCom and DingTalk robots: markdown messages and DingTalk's signed URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

from services.notify.domain.robots import (
    dingtalk_message,
    dingtalk_sign,
    dingtalk_signed_url,
    pace_key,
    robot_verdict,
    wecom_message,
)

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
TS = 1_528_070_400_123


def test_dingtalk_signs_timestamp_newline_secret_with_hmac_sha256() -> None:
    by_hand = hmac.new(SECRET.encode(), f"{TS}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(SECRET, TS) == base64.b64encode(by_hand).decode()


def test_the_signed_url_keeps_the_token_and_adds_urlencoded_timestamp_and_sign() -> None:
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", SECRET, TS)
    query = urlsplit(url).query
    assert "+" not in query.split("sign=", 1)[1] and "/" not in query.split("sign=", 1)[1]
    params = parse_qs(query)
    assert params == {
        "access_token": ["abc"],
        "timestamp": [str(TS)],
        "sign": [dingtalk_sign(SECRET, TS)],
    }
    # Signing again (a retry) replaces the old timestamp and sign rather than adding more.
    again = parse_qs(urlsplit(dingtalk_signed_url(url, SECRET, TS + 1)).query)
    assert again["timestamp"] == [str(TS + 1)] and len(again["sign"]) == 1


def test_both_robots_get_markdown_with_the_title_first() -> None:
    assert wecom_message("标题", "正文") == {
        "msgtype": "markdown",
        "markdown": {"content": "## 标题\n正文"},
    }
    assert dingtalk_message("标题", "正文")["markdown"] == {
        "title": "标题",
        "text": "## 标题\n正文",
    }


def test_robot_answers_are_sent_retried_on_their_rate_limit_or_given_up() -> None:
    assert robot_verdict({"errcode": 0, "errmsg": "ok"}) == "delivered"
    assert robot_verdict({"errcode": 45009}) == "retry"
    assert robot_verdict({"errcode": 130101}) == "retry"
    assert robot_verdict({"errcode": 93000, "errmsg": "invalid webhook url"}) == "permanent"
    assert robot_verdict(["not", "an", "object"]) == "permanent"


def test_a_robot_is_paced_by_its_url_whatever_channel_or_signature_reaches_it() -> None:
    wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY-1"
    assert pace_key(wecom) == pace_key(
        "https://QYAPI.weixin.qq.com:443/cgi-bin/webhook/send?key=KEY-1"
    )
    assert pace_key(wecom) != pace_key(wecom.replace("KEY-1", "KEY-2"))  # another robot
    ding = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN"
    signed = dingtalk_signed_url(ding, "SECxyz", 1_528_000_000_000)
    assert pace_key(signed) == pace_key(ding)  # the per-send 加签 is not the robot's identity
    assert "KEY-1" not in pace_key(wecom) and "TOKEN" not in pace_key(ding)  # a digest only
