// The publishing half of the load generator: a pool of keep-alive sockets
// (raw-http.ts), requests built from a target's PublishSpec (form or raw body, or
// Herald's JSON batch). Kept apart from the pacing logic so that wire formats live
// in one place.
import type { PublishSpec } from './protocol.js';
import { RawHttpPool } from './raw-http.js';

export interface PublishItem {
  readonly topic: number;
  readonly data: string;
}

export class PublishClient {
  private readonly pool: RawHttpPool;
  private readonly pathParts: [string, string];
  private readonly bodyParts: string[];

  constructor(
    host: string,
    port: number,
    private readonly spec: PublishSpec,
    sockets: number,
  ) {
    this.pool = new RawHttpPool(host, port, sockets);
    const [before = '', after = ''] = spec.pathTemplate.split('{topic}');
    this.pathParts = [before, after];
    this.bodyParts = spec.bodyTemplate.split(/(\{topic\}|\{data\})/);
  }

  /** Resolves with the HTTP status (the body is drained); rejects on socket errors. */
  publish(item: PublishItem): Promise<number> {
    const topic = this.spec.topics[item.topic] ?? '';
    const path = this.spec.pathTemplate.includes('{topic}') ? this.pathParts[0] + topic + this.pathParts[1] : this.spec.pathTemplate;
    let body = '';
    for (const part of this.bodyParts) {
      if (part === '{topic}') body += topic;
      else if (part === '{data}') body += this.spec.form ? encodeURIComponent(item.data) : item.data;
      else body += part;
    }
    return this.send(path, body, this.spec.headers);
  }

  get supportsBatch(): boolean {
    return this.spec.batch !== undefined;
  }

  /** Updates per batch request (1 without a batch path). */
  get batchSize(): number {
    return this.spec.batch?.maxItems ?? 1;
  }

  /** Herald's batch extension: `{"updates": [{"topic", "data"}, ...]}` as JSON. */
  publishBatch(items: readonly PublishItem[]): Promise<number> {
    const batch = this.spec.batch;
    if (!batch) return Promise.reject(new Error('this target has no batch publish path'));
    const body = JSON.stringify({ updates: items.map((i) => ({ topic: batch.topics[i.topic], data: i.data })) });
    return this.send(batch.path, body, { ...this.spec.headers, 'content-type': batch.contentType });
  }

  private send(path: string, body: string, headers: Readonly<Record<string, string>>): Promise<number> {
    return this.pool.post(path, body, headers);
  }

  close(): void {
    this.pool.close();
  }
}
