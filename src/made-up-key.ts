// When no JWT key is configured, subscriber tokens (the chat's session cookies among
// them) still need one. With the SQLite store it is kept beside the database, so a
// restart does not sign everybody out; otherwise it lives as long as the process.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface MadeUpKey {
  readonly key: string;
  /** Where it is kept, or undefined when it dies with the process. */
  readonly file: string | undefined;
}

export function madeUpSubscriberKey(store: string): MadeUpKey {
  if (!store.startsWith('sqlite:')) return { key: randomBytes(32).toString('base64url'), file: undefined };
  const file = join(dirname(store.slice('sqlite:'.length)), 'herald-subscriber.key');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return { key: existing, file };
  } catch {
    // Not there yet: made below.
  }
  const key = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, file };
}
