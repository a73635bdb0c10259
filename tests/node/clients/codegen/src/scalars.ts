// The wire forms of kvgraph's scalars (docs/frontends.md#scalars): every one is a string.

/** A DateTime with an offset is an instant; without one it is a local wall-clock time. */
export function isInstant(value: string): boolean {
  return /[+-]\d\d:\d\d$/.test(value);
}

/** Milliseconds since the epoch for an instant; null for a wall-clock time (never guessed). */
export function instantMillis(value: string): number | null {
  return isInstant(value) ? Date.parse(value.replace(/(\.\d{3})\d+/, "$1")) : null;
}

/** A Date (`YYYY-MM-DD`) as its three numbers, without any time zone. */
export function calendarDate(value: string): [number, number, number] {
  const [y, m, d] = value.split("-").map(Number);
  return [y ?? 0, m ?? 0, d ?? 0];
}
