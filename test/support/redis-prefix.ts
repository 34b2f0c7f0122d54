// A Redis key prefix of its own for each test run on the shared server (127.0.0.1:6379),
// and the cleanup that deletes every key under it afterwards.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const SHARED_REDIS = 'redis://127.0.0.1:6379/0';

export function uniquePrefix(name: string): string {
  return `herald-test:${name}:${randomUUID().slice(0, 8)}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS, so the shared server is not blocked). */
export async function deleteKeys(prefix: string, url = SHARED_REDIS): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    for (let rounds = 0; rounds < 100_000; rounds++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
