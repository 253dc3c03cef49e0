// Reads ICS files with ical.js (the parser Thunderbird uses) and prints, per file,
// {uid: {start, end, summary, status}} as JSON. Times are ISO 8601 with the UTC offset
// that ical.js computes from the VTIMEZONE inside the file, so a wrong VTIMEZONE (summer
// times an hour off) or an unresolved TZID (read as floating) shows up as a difference.
// Usage: node parse_feeds.mjs FILE.ics ...   (exit 1 with a message on a parse error)
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");

function iso(time) {
  if (!time) return null;
  const date = `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  if (time.isDate) return date;
  if (time.zone === ICAL.Timezone.localTimezone) {
    throw new Error(`floating time ${time.toString()}: TZID not resolved`);
  }
  const offset = time.utcOffset(); // seconds east of UTC, from the zone's rules
  const sign = offset < 0 ? "-" : "+";
  const hours = Math.floor(Math.abs(offset) / 3600);
  const minutes = Math.floor((Math.abs(offset) % 3600) / 60);
  return `${date}T${pad(time.hour)}:${pad(time.minute)}:${pad(time.second)}${sign}${pad(hours)}:${pad(minutes)}`;
}

const result = {};
for (const file of process.argv.slice(2)) {
  // Each file must carry its own VTIMEZONE: forget the zones of the files before it.
  ICAL.TimezoneService.reset();
  const calendar = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  const events = {};
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    const start = event.startDate;
    events[event.uid] = {
      start: iso(start),
      end: iso(event.endDate),
      start_utc: start.isDate ? null : start.toJSDate().toISOString(),
      summary: event.summary,
      status: vevent.getFirstPropertyValue("status"),
    };
  }
  result[file] = {
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    timezones: calendar.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
    events,
  };
}
process.stdout.write(JSON.stringify(result));
