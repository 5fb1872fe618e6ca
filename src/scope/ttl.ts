/** `30s`, `15m`, `12h`, `7d` → milliseconds (contract §1 `--ttl`). */
export function parseTtl(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!match) throw new Error(`invalid ttl "${text}": use a number followed by s, m, h or d (e.g. 30s, 15m, 12h, 7d)`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new Error(`invalid ttl "${text}": must be greater than zero`);
  return ms;
}

export const DEFAULT_SESSION_TTL_MS = 30 * 86_400_000;
