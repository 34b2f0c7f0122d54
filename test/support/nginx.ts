// nginx for end-to-end tests: the shipped deploy/nginx/herald.conf, rendered with a
// free port, the given Herald processes as upstreams and (optionally) low limits,
// in a temporary prefix directory that stop() removes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NginxSettings } from '../../scripts/cluster/nginx-config.js';
import { nginxAvailable, startNginx, type NginxProcess } from '../../scripts/cluster/nginx-process.js';
import { freePort } from '../../scripts/cluster/ports.js';

/** `skip` option for node:test: nginx (and redis-server) must be there under CI. */
export function skipWithout(...programs: Array<'nginx' | 'redis-server'>): string | false {
  const missing = programs.filter((program) => (program === 'nginx' ? !nginxAvailable() : spawnSync('redis-server', ['--version']).status !== 0));
  if (missing.length === 0) return false;
  if (process.env.CI) throw new Error(`${missing.join(' and ')} must be installed under CI (.ci/run installs them)`);
  return `${missing.join(' and ')} not installed`;
}

export type TestNginxLimits = Pick<NginxSettings, 'subscriptionsPerAddress' | 'publishRate' | 'publishBurst'>;

/** Starts nginx in front of `upstreamUrls` (http://host:port of each Herald). */
export async function startTestNginx(upstreamUrls: readonly string[], limits: TestNginxLimits = {}): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-nginx-'));
  const upstreams = upstreamUrls.map((url) => new URL(url).host);
  // The free port may be taken between our probe and nginx's bind: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      const nginx = await startNginx({ dir, listen: `127.0.0.1:${await freePort()}`, upstreams, workerProcesses: 1, ...limits });
      return {
        ...nginx,
        stop: async (signal, graceMs) => {
          try {
            return await nginx.stop(signal, graceMs);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      };
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test(String(error))) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

/** The Herald process that served a response through nginx (the last address nginx tried). */
export function servedBy(headers: Headers | Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers instanceof Headers ? headers.get('x-herald-upstream') : headers['x-herald-upstream'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value?.split(',').pop()?.trim() || undefined;
}
