// Times as the user reads them: in their display time zone (GET /v1/me: their own, else
// their organisation's, else UTC), in the browser's locale, and always named. Pure.

function parts(zone, date) {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const p = Object.fromEntries(fmt.formatToParts(date).map((x) => [x.type, x.value]));
  return { y: +p.year, mo: +p.month, d: +p.day, h: +p.hour % 24, mi: +p.minute, s: +p.second };
}

// Minutes `zone` is ahead of UTC at `date` (Asia/Jakarta: 420).
export function offsetMinutes(zone, date) {
  const p = parts(zone, date);
  const wall = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s);
  return Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

export function clock(zone = "UTC", locale = undefined) {
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone: zone, dateStyle: "medium", timeStyle: "medium" });
  const time = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit" });
  const seconds = new Intl.DateTimeFormat(locale, {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const year = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric" });
  const day = new Intl.DateTimeFormat(locale, { timeZone: zone, day: "numeric", month: "short" });
  const dayYear = new Intl.DateTimeFormat(locale, { timeZone: zone, day: "numeric", month: "short", year: "numeric" });
  const asDate = (v) => (v instanceof Date ? v : new Date(v * 1000)); // Date or unix seconds
  return {
    zone,
    // "Asia/Jakarta (UTC+07:00)", at `date`'s offset.
    name(date = new Date()) {
      const m = offsetMinutes(zone, date);
      const sign = m < 0 ? "−" : "+";
      return `${zone} (UTC${sign}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)})`;
    },
    dateTime: (v) => dateTime.format(asDate(v)),
    time: (v) => time.format(asDate(v)),
    day: (v) => day.format(asDate(v)),
    dayYear: (v) => dayYear.format(asDate(v)),
    // The value of a datetime-local input showing `date` in the zone.
    toInput(date) {
      const p = parts(zone, date);
      return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
    },
    // The instant a datetime-local input's value means in the zone (NaN date if empty).
    fromInput(value) {
      const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value ?? "");
      if (!m) return new Date(NaN);
      const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
      let guess = wall - offsetMinutes(zone, new Date(wall)) * 60000;
      guess = wall - offsetMinutes(zone, new Date(guess)) * 60000; // across a DST change
      return new Date(guess);
    },
    // Time-axis labels for uPlot: the time (with seconds for ticks under a minute apart),
    // and the day where it changes; days only for ticks a day or more apart, with the
    // year where it changes (and on the first).
    axis(splits, incrSeconds) {
      let lastDay = "";
      let lastYear = "";
      const clockOf = incrSeconds < 60 ? seconds : time;
      return splits.map((t) => {
        const at = asDate(t);
        const y = year.format(at);
        const key = day.format(at);
        const d = y !== lastYear ? dayYear.format(at) : key;
        lastYear = y;
        if (incrSeconds >= 86400) return d;
        const label = key !== lastDay ? `${clockOf.format(at)}\n${d}` : clockOf.format(at);
        lastDay = key;
        return label;
      });
    },
  };
}
