"""WeChat's day: quotas reset at midnight China time (UTC+8 all year, no DST)."""

from __future__ import annotations

CHINA_UTC_OFFSET = 8 * 3600
DAY = 86400


def china_day(epoch: float) -> int:
    """The number of the China-time calendar day holding ``epoch`` (days since 1970-01-01)."""
    return int((epoch + CHINA_UTC_OFFSET) // DAY)


def next_china_midnight(epoch: float) -> float:
    """The epoch of the next midnight in China time after ``epoch``."""
    return (china_day(epoch) + 1) * DAY - CHINA_UTC_OFFSET
