// nginx + nchan as a bench target: renders bench/nchan/nginx.conf.template into a
// fresh prefix directory under the OS temp dir, runs nginx in the foreground (one
// worker), and removes the directory when stopped. Skipped when nginx or the
// module is missing.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup, spawnServer } from '../proc/children.js';
import { HOST, freePort, waitHealthy, type RunningTarget, type StartOptions, type Target } from './target.js';

const TEMPLATE = fileURLToPath(new URL('../nchan/nginx.conf.template', import.meta.url));
const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
const MODULE_CANDIDATES = ['/usr/lib/nginx/modules/ngx_nchan_module.so', '/usr/local/nginx/modules/ngx_nchan_module.so'];
/** Debian's snippet that loads the module, when the .so lives elsewhere. */
const MODULE_SNIPPET = '/usr/share/nginx/modules-available/mod-nchan.conf';

function findNginx(): string | undefined {
  return NGINX_CANDIDATES.find((p) => existsSync(p));
}

/** The `load_module` line, or undefined when the module cannot be found. */
function loadModuleLine(nginx: string): string | undefined {
  const so = MODULE_CANDIDATES.find((p) => existsSync(p));
  if (so) return `load_module ${so};`;
  if (existsSync(MODULE_SNIPPET)) return readFileSync(MODULE_SNIPPET, 'utf8').trim();
  // Statically built in?
  const version = spawnSync(nginx, ['-V'], { encoding: 'utf8' });
  return /nchan/.test(`${version.stderr}${version.stdout}`) ? '' : undefined;
}

function channel(index: number): string {
  return `t${index}`;
}

export const nchanTarget: Target = {
  name: 'nchan',
  async unavailable() {
    const nginx = findNginx();
    if (!nginx) return 'nginx not found';
    if (loadModuleLine(nginx) === undefined) return 'the nchan module (ngx_nchan_module.so) not found';
    return null;
  },
  async start(options: StartOptions): Promise<RunningTarget> {
    const nginx = findNginx()!;
    const port = await freePort();
    const prefix = mkdtempSync(join(tmpdir(), 'herald-bench-nchan-'));
    const connections = options.maxConnections + 1024;
    const values: Record<string, string> = {
      LOAD_MODULE: loadModuleLine(nginx) ?? '',
      // As root, nginx would switch its worker to "nobody", which cannot use the prefix dir.
      USER: process.getuid?.() === 0 ? 'user root;' : '',
      NOFILE: String(connections + 1024),
      CONNECTIONS: String(connections),
      PREFIX: prefix,
      HOST,
      PORT: String(port),
    };
    const conf = readFileSync(TEMPLATE, 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`nginx.conf.template: unknown placeholder ${key}`);
      return value;
    });
    const confPath = join(prefix, 'nginx.conf');
    writeFileSync(confPath, conf);
    const proc = spawnServer(nginx, ['-p', prefix, '-c', confPath, '-e', join(prefix, 'error.log')], {
      cpus: options.cpus,
      lifetimeSeconds: options.lifetimeSeconds,
    });
    const removeDir = (): void => rmSync(prefix, { recursive: true, force: true });
    const forget = onCleanup(removeDir);
    const cleanup = (): void => {
      forget();
      removeDir();
    };
    try {
      await waitHealthy(proc, port, '/healthz', 15_000);
    } catch (error) {
      const log = existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '';
      await proc.stop();
      cleanup();
      throw new Error(`${(error as Error).message}\n${log.slice(-2000)}`);
    }
    return {
      host: HOST,
      port,
      process: proc,
      roots: [proc.pid],
      subscribeSpec: (topicCount) => ({
        host: HOST,
        port,
        paths: Array.from({ length: topicCount }, (_, i) => `/sub/${channel(i)}`),
      }),
      publishSpec: (topicCount) => ({
        pathTemplate: '/pub/{topic}',
        bodyTemplate: '{data}',
        form: false,
        headers: { 'content-type': 'text/plain' },
        topics: Array.from({ length: topicCount }, (_, i) => channel(i)),
      }),
      stop: async () => {
        await proc.stop();
        cleanup();
      },
    };
  },
};
