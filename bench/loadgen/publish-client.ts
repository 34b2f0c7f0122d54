// The publishing half of the load generator: one keep-alive http.Agent, requests
// built from a target's PublishSpec (form or raw body, or Herald's JSON batch).
// Kept apart from the pacing logic so that wire formats live in one place.
import { Agent, request } from 'node:http';
import type { PublishSpec } from './protocol.js';

export interface PublishItem {
  readonly topic: number;
  readonly data: string;
}

export class PublishClient {
  private readonly agent: Agent;
  private readonly pathParts: [string, string];
  private readonly bodyParts: string[];

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly spec: PublishSpec,
    sockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
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
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method: 'POST',
          path,
          agent: this.agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('publish timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
