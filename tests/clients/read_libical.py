"""Reads ICS files with libical (Evolution, GNOME Calendar) through GObject introspection.

Runs under the system Python (/usr/bin/python3), where Debian's python3-gi and
gir1.2-ical-3.0 live — not in the project's venv. Prints per file {uid: {summary, status,
start, end, errors}} as JSON; ``errors`` are the X-LIC-ERROR properties libical adds where it
could not read a line. Usage: python3 read_libical.py FILE.ics ...
"""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402


def iso(time):
    if time is None or time.is_null_time():
        return None
    date = f"{time.get_year():04}-{time.get_month():02}-{time.get_day():02}"
    if time.is_date():
        return date
    return f"{date}T{time.get_hour():02}:{time.get_minute():02}:{time.get_second():02}"


def main(paths):
    result = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            calendar = ICalGLib.Component.new_from_string(handle.read())
        top_errors = []
        prop = calendar.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
        while prop is not None:
            top_errors.append(prop.get_xlicerror())
            prop = calendar.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
        events = {}
        event = calendar.get_first_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
        while event is not None:
            errors = []
            prop = event.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
            while prop is not None:
                errors.append(prop.get_xlicerror())
                prop = event.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
            status = event.get_status()
            events[event.get_uid()] = {
                "summary": event.get_summary(),
                "status": ICalGLib.Property.status_to_string(status) if status else None,
                "start": iso(event.get_dtstart()),
                "end": iso(event.get_dtend()),
                "errors": errors,
            }
            event = calendar.get_next_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
        result[path] = {"errors": top_errors, "events": events}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
