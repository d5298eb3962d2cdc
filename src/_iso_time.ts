// The ISO 8601 text of a time, as the codec writes `$date` (`2024-01-02T03:04:05.678Z`), and
// back. The same text as `Date.prototype.toISOString()` and the same time as `Date.parse()`,
// by arithmetic on the digits: both engine calls cost about a microsecond, a fifth of
// encoding a whole history entry, and every record has a date or two.

const DAY_MS = 86_400_000;
/** Days from 0000-03-01 to 1970-01-01, for the civil-calendar arithmetic below. */
const EPOCH_DAYS = 719_468;
/** Days in 400 years of the proleptic Gregorian calendar. */
const ERA_DAYS = 146_097;

/**
 * `new Date(time).toISOString()`, for a time in years 0-9999.
 *
 * @param time Milliseconds since the epoch, an integer from `-62167219200000` (0000-01-01)
 * to `253402300799999` (9999-12-31T23:59:59.999Z).
 */
export function isoText(time: number): string {
  const days = Math.floor(time / DAY_MS);
  let ms = time - days * DAY_MS;
  // Civil date from a day count (H. Hinnant's algorithm), years starting on March 1.
  const z = days + EPOCH_DAYS;
  const era = Math.floor(z / ERA_DAYS);
  const dayOfEra = z - era * ERA_DAYS;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);

  const hours = Math.floor(ms / 3_600_000);
  ms -= hours * 3_600_000;
  const minutes = Math.floor(ms / 60_000);
  ms -= minutes * 60_000;
  const seconds = Math.floor(ms / 1000);
  ms -= seconds * 1000;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hours, 2)}:${pad(minutes, 2)}:` +
    `${pad(seconds, 2)}.${pad(ms, 3)}Z`;
}

/** `value` (a whole number below 10,000) in `width` digits. */
function pad(value: number, width: 2 | 3 | 4): string {
  const digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : 4;
  return digits >= width ? `${value}` : `${"000".slice(0, width - digits)}${value}`;
}

/**
 * `Date.parse(text)`: computed from the digits when `text` has the form `isoText` writes
 * and names a valid time, else left to `Date.parse`.
 *
 * @returns Milliseconds since the epoch, or `NaN`.
 */
export function parseIsoTime(text: string): number {
  if (
    text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90
  ) {
    return Date.parse(text);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hours = digits(text, 11, 2);
  const minutes = digits(text, 14, 2);
  const seconds = digits(text, 17, 2);
  const ms = digits(text, 20, 3);
  // NaN (a character that is not a digit) fails every comparison, and so falls back too.
  if (
    !(year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
      hours < 24 && minutes < 60 && seconds < 60 && ms >= 0)
  ) {
    return Date.parse(text);
  }
  // Days from a civil date (H. Hinnant's algorithm), years starting on March 1.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  const days = era * ERA_DAYS + dayOfEra - EPOCH_DAYS;
  return days * DAY_MS + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + ms;
}

/** The number the ASCII digits of `text` at `start` spell, or `NaN`. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}
