// Publishing from a backend: form POSTs for one update, Herald's JSON batch for many,
// with the hub's refusals as typed errors (HeraldClientError.code is Herald's error
// code). Every update gets an id of its own (urn:uuid) unless it has one, so that a
// publish whose answer was lost can be sent again: the hub refuses an id it already
// holds, which then means "stored the first time".
import { errorFromResponse, HeraldClientError } from './errors.js';
import { resolveToken, type TokenSource } from './token.js';

export interface Update {
  /** The canonical topic first; several topics: an array. */
  readonly topic: string | readonly string[];
  readonly data?: string;
  readonly private?: boolean;
  /** The event id; default a fresh urn:uuid (see `mintIds`). */
  readonly id?: string;
  /** The SSE event type. */
  readonly type?: string;
  /** The SSE `retry:` sent with it, in ms. */
  readonly retry?: number;
}

export interface PublisherOptions {
  /** The hub's URL, e.g. https://example.com/.well-known/mercure */
  readonly hub: string | URL;
  /** A publisher JWT, or a function returning one (called for every request). */
  readonly token: TokenSource;
  /** Attempts after the first for failures worth retrying (no answer, 429, 5xx). Default 3. */
  readonly retries?: number;
  /** Delay before the first retry, doubled each time (a Retry-After wins when longer). Default 200. */
  readonly retryDelayMs?: number;
  /** Give updates without an id one, which makes their retries safe. Default true; false: such updates are never retried. */
  readonly mintIds?: boolean;
  readonly fetch?: typeof fetch;
}

/** The hub's refusal of an id it already holds (`duplicate_id`; Herald before that code said invalid_field "already in the log"). */
function isDuplicate(error: HeraldClientError, ids: readonly string[]): boolean {
  const duplicate = error.code === 'duplicate_id' || (error.code === 'invalid_field' && /already in the log/.test(error.message));
  return duplicate && ids.some((id) => error.message.includes(`"${id}"`));
}

export class Publisher {
  private readonly url: string;

  constructor(private readonly options: PublisherOptions) {
    this.url = new URL(options.hub).toString();
  }

  /** Publishes one update; resolves with its id once the hub has stored it. */
  async publish(update: Update): Promise<string> {
    const full = this.withId(update);
    let attempts = 0;
    return this.attempt(full.id !== undefined, async () => {
      const again = attempts++ > 0;
      const body = new URLSearchParams();
      for (const topic of typeof full.topic === 'string' ? [full.topic] : full.topic) body.append('topic', topic);
      if (full.data !== undefined) body.set('data', full.data);
      if (full.private === true) body.set('private', 'on');
      if (full.id !== undefined) body.set('id', full.id);
      if (full.type !== undefined) body.set('type', full.type);
      if (full.retry !== undefined) body.set('retry', String(full.retry));
      const response = await this.post('application/x-www-form-urlencoded', body.toString());
      if (response.ok) return response.text();
      const error = await errorFromResponse(response);
      // Sent before without an answer, refused now as already stored: it was stored.
      if (again && full.id !== undefined && isDuplicate(error, [full.id])) return full.id;
      throw error;
    });
  }

  /**
   * Publishes many updates in one request (Herald's JSON batch): all are checked before
   * any is stored. After a store failure, only the updates it did not store are sent again.
   */
  async publishBatch(updates: readonly Update[]): Promise<string[]> {
    const all = updates.map((u) => this.withId(u));
    let pending = all;
    let attempts = 0;
    const retriable = all.every((u) => u.id !== undefined);
    return this.attempt(retriable, async () => {
      const again = attempts++ > 0;
      const response = await this.post('application/json', JSON.stringify({ updates: pending.map(toBatchEntry) }));
      if (response.ok) {
        const { ids } = (await response.json()) as { ids: string[] };
        return pending === all ? ids : all.map((u) => u.id!);
      }
      const error = await errorFromResponse(response);
      // A batch whose answer was lost is stored as one: any of its ids refused as held means all are.
      if (again && retriable && isDuplicate(error, pending.map((u) => u.id!))) return all.map((u) => u.id!);
      const stored = error.details.stored;
      if (Array.isArray(stored)) {
        const done = new Set(stored.filter((id): id is string => typeof id === 'string'));
        pending = pending.filter((u) => !done.has(u.id!));
      }
      throw error;
    });
  }

  private withId(update: Update): Update {
    if (update.id !== undefined || this.options.mintIds === false) return update;
    return { ...update, id: `urn:uuid:${crypto.randomUUID()}` };
  }

  private async post(contentType: string, body: string): Promise<Response> {
    const token = await resolveToken(this.options.token).catch((error: unknown) => {
      throw new HeraldClientError('token_unavailable', `getToken failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    const fetcher = this.options.fetch ?? globalThis.fetch;
    try {
      return await fetcher(this.url, { method: 'POST', headers: { 'Content-Type': contentType, Authorization: `Bearer ${token}` }, body });
    } catch (error) {
      throw new HeraldClientError('network', error instanceof Error ? error.message : String(error));
    }
  }

  /** Runs `send`, again after transient failures when `retriable`. */
  private async attempt<T>(retriable: boolean, send: () => Promise<T>): Promise<T> {
    const retries = retriable ? (this.options.retries ?? 3) : 0;
    let delay = this.options.retryDelayMs ?? 200;
    for (let i = 0; ; i++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof HeraldClientError) || !error.transient || i >= retries) throw error;
        const after = error.details.retryAfterMs;
        await new Promise((resolve) => setTimeout(resolve, Math.max(delay, typeof after === 'number' ? after : 0)));
        delay *= 2;
      }
    }
  }
}

function toBatchEntry(update: Update): Record<string, unknown> {
  const entry: Record<string, unknown> = typeof update.topic === 'string' ? { topic: update.topic } : { topics: [...update.topic] };
  for (const key of ['data', 'private', 'id', 'type', 'retry'] as const) if (update[key] !== undefined) entry[key] = update[key];
  return entry;
}

