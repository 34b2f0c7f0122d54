// Fills deploy/nginx/herald.conf's {{PLACEHOLDERS}}: the one template both
// `npm run cluster` and the nginx tests run, so the tests prove the shipped config.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const NGINX_TEMPLATE = fileURLToPath(new URL('../../deploy/nginx/herald.conf', import.meta.url));

export interface NginxSettings {
  /** `host:port` nginx listens on. */
  readonly listen: string;
  /** `host:port` of each Herald process. */
  readonly upstreams: readonly string[];
  /** Open event streams allowed per client address (limit_conn). Default 100. */
  readonly subscriptionsPerAddress?: number;
  /** Publish rate per client address (limit_req), `<n>r/s` or `<n>r/m`. Default 50r/s. */
  readonly publishRate?: string;
  /** Publishes allowed above the rate before 429s. Default 100. */
  readonly publishBurst?: number;
  /** Default 'auto'. */
  readonly workerProcesses?: number | 'auto';
}

export const NGINX_DEFAULTS = {
  subscriptionsPerAddress: 100,
  publishRate: '50r/s',
  publishBurst: 100,
  workerProcesses: 'auto',
} as const;

const HOST_PORT = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/;

function positive(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`nginx ${name} must be a whole number >= 1, got ${value}`);
  return String(value);
}

/** Replaces every placeholder; throws on a bad value or on a placeholder left without one. */
export function renderNginxConfig(template: string, settings: NginxSettings): string {
  if (!HOST_PORT.test(settings.listen)) throw new Error(`nginx listen must be host:port, got ${JSON.stringify(settings.listen)}`);
  if (settings.upstreams.length === 0) throw new Error('nginx needs at least one Herald process upstream');
  for (const upstream of settings.upstreams) {
    if (!HOST_PORT.test(upstream)) throw new Error(`an upstream must be host:port, got ${JSON.stringify(upstream)}`);
  }
  const rate = settings.publishRate ?? NGINX_DEFAULTS.publishRate;
  if (!/^\d+r\/[sm]$/.test(rate) || rate.startsWith('0')) throw new Error(`nginx publish rate must look like 50r/s or 30r/m, got ${JSON.stringify(rate)}`);
  const workers = settings.workerProcesses ?? NGINX_DEFAULTS.workerProcesses;
  const values: Record<string, string> = {
    LISTEN: settings.listen,
    // max_fails=1: one refused connection takes a dead process out of rotation for
    // fail_timeout, so reconnecting streams stop trying it first.
    UPSTREAM_SERVERS: settings.upstreams.map((upstream) => `        server ${upstream} max_fails=1 fail_timeout=5s;`).join('\n'),
    SUBSCRIPTIONS_PER_ADDRESS: positive('subscriptionsPerAddress', settings.subscriptionsPerAddress ?? NGINX_DEFAULTS.subscriptionsPerAddress),
    PUBLISH_RATE: rate,
    PUBLISH_BURST: positive('publishBurst', settings.publishBurst ?? NGINX_DEFAULTS.publishBurst),
    WORKER_PROCESSES: workers === 'auto' ? 'auto' : positive('workerProcesses', workers),
  };
  const rendered = template.replace(/\{\{([A-Z_]+)\}\}/g, (match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the nginx template has an unknown placeholder ${match}`);
    return value;
  });
  return rendered;
}

export async function readNginxTemplate(path: string = NGINX_TEMPLATE): Promise<string> {
  return readFile(path, 'utf8');
}
