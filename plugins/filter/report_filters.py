# -*- coding: utf-8 -*-
"""Times in the reports a person reads: Beijing time with its offset.

Every report for the client (巡检报告, 漂移报告, 备份检查, 恢复验证, 迁移记录) shows its times through
`report_time`, whatever the source wrote: a run id (20261206T104012Z), ISO 8601 in UTC (Z) or with any
offset (+08, +0800, +08:00, fractions up to nanoseconds as restic writes them), epoch seconds or a datetime
with its zone. The offset is a fixed one, not a zone database lookup: a controller may lack zoneinfo, and
China has had no daylight saving time since 1991, so Asia/Shanghai is +08:00 all year. The playbooks pass
`report_utc_offset` (inventories/*/group_vars/all/reports.yml; default +08:00, documented there).

A time without an offset is refused: it could be any zone, and a report must not guess.
"""
from __future__ import absolute_import, division, print_function

import datetime
import re

__metaclass__ = type

DEFAULT_UTC_OFFSET = "+08:00"
STYLES = ("display", "iso", "minute", "short")

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})?$")
_RUN_ID = re.compile(r"^(\d{8})T(\d{6})Z$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")


def parse_offset(text):
    """'+08:00', '+0800', '+08', 'Z' -> datetime.timezone; anything else is an error naming the value."""
    text = str(text).strip()
    if text in ("Z", "UTC", "+00:00"):
        return datetime.timezone.utc
    m = _OFFSET.match(text)
    if not m or int(m.group(2)) > 23 or int(m.group(3) or 0) > 59:
        raise ValueError("report_utc_offset is %r; allowed: an offset such as +08:00 (Beijing time), +0800 or Z"
                         % (text,))
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return datetime.timezone(datetime.timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


def parse_time(value):
    """A time from any of the forms the sources write -> an aware datetime. None/'' -> None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError("time %r has no zone; a report cannot tell which time it is" % (value,))
        return value
    if isinstance(value, bool):
        raise ValueError("time %r is a boolean, not a time" % (value,))
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc)
    text = str(value).strip()
    m = _RUN_ID.match(text)
    if m:
        return datetime.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    m = _ISO.match(text)
    if not m:
        if re.match(r"^\d+(\.\d+)?$", text):
            return datetime.datetime.fromtimestamp(float(text), datetime.timezone.utc)
        raise ValueError("time %r is not ISO 8601 with an offset (2026-12-06T18:40:12+08:00 or ...Z), "
                         "a run id (20261206T104012Z) or epoch seconds" % (text,))
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro,
                             tzinfo=parse_offset(offset))


def report_time(value, utc_offset=DEFAULT_UTC_OFFSET, style="display"):
    """A time as a person reads it in a report: in utc_offset (Beijing time, +08:00, by default).

    style: display '2026-12-06 18:40:12 +08:00'; iso '2026-12-06T18:40:12+08:00' (for JSON);
    minute '2026-12-06 18:40 +08:00'; short '12-06 18:40' (chart axes, where the offset is said once
    beside the chart). None or '' -> '' (the template shows its own placeholder).
    """
    if style not in STYLES:
        raise ValueError("report_time style is %r; allowed: %s" % (style, ", ".join(STYLES)))
    moment = parse_time(value)
    if moment is None:
        return ""
    zone = parse_offset(utc_offset)
    local = moment.astimezone(zone).replace(microsecond=0)
    offset = local.strftime("%z")
    offset = offset[:3] + ":" + offset[3:]
    if style == "iso":
        return local.strftime("%Y-%m-%dT%H:%M:%S") + offset
    if style == "minute":
        return local.strftime("%Y-%m-%d %H:%M ") + offset
    if style == "short":
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M:%S ") + offset


class FilterModule(object):
    def filters(self):
        return {"report_time": report_time}
