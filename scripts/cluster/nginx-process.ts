// Runs the Debian nginx binary on the rendered herald.conf, in the foreground
// (`daemon off`) as our child, with its own prefix directory for pid, logs,
// temp files and cache: no root, no /etc/nginx, and nothing shared with a
// system nginx.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manage, readLines, type ManagedChild } from './children.js';
import { readNginxTemplate, renderNginxConfig, type NginxSettings } from './nginx-config.js';
import { waitForPort } from './ports.js';

export const NGINX_BIN = process.env.NGINX_BIN ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

export interface NginxOptions extends NginxSettings {
  /** nginx's prefix: nginx.conf, nginx.pid, logs/, tmp/ and cache/ go here. */
  readonly dir: string;
  /** Another template than deploy/nginx/herald.conf. */
  readonly template?: string;
  /** Called with each line nginx writes (its error log goes to stderr). */
  readonly onLine?: (line: string) => void;
  readonly startTimeoutMs?: number;
}

export interface NginxProcess extends ManagedChild {
  /** `http://<listen>` */
  readonly url: string;
  readonly configPath: string;
  /** What nginx printed so far (errors and warnings). */
  output(): string;
}

export function nginxAvailable(): boolean {
  return spawnSync(NGINX_BIN, ['-v']).status === 0;
}

/** Writes the config, checks it with `nginx -t`, starts nginx and resolves once it accepts connections. */
export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
  const dir = resolve(options.dir);
  // When run as root, nginx's workers run as "nobody" and must reach tmp/ and cache/.
  for (const sub of ['', 'logs', 'tmp', 'cache']) {
    mkdirSync(join(dir, sub), { recursive: true });
    chmodSync(join(dir, sub), 0o755);
  }
  const configPath = join(dir, 'nginx.conf');
  const template = options.template === undefined ? await readNginxTemplate() : await readNginxTemplate(options.template);
  writeFileSync(configPath, renderNginxConfig(template, options));
  const prefixArgs = ['-p', `${dir}/`, '-c', configPath, '-e', 'stderr'];
  const check = spawnSync(NGINX_BIN, ['-t', '-q', ...prefixArgs], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx rejected ${configPath}:\n${check.stderr}${check.error?.message ?? ''}`);

  const child = spawn(NGINX_BIN, [...prefixArgs, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const managed = manage('nginx', child);
  let output = '';
  readLines(child, (line) => {
    output += `${line}\n`;
    options.onLine?.(line);
  });
  child.on('error', (error) => (output += `${error.message}\n`));
  const [host, port] = splitHostPort(options.listen);
  try {
    await Promise.race([
      waitForPort(host, port, options.startTimeoutMs ?? 10_000),
      managed.exited.then((code) => Promise.reject(new Error(`nginx exited (${code}) while starting:\n${output}`))),
    ]);
  } catch (error) {
    await managed.stop('SIGKILL');
    throw error;
  }
  return {
    ...managed,
    url: `http://${options.listen}`,
    configPath,
    output: () => output,
    // SIGTERM is nginx's fast shutdown; SIGQUIT (graceful) would wait on open streams.
    stop: (signal = 'SIGTERM', graceMs) => managed.stop(signal, graceMs),
  };
}

function splitHostPort(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  return [listen.slice(0, colon).replace(/^\[|\]$/g, ''), Number(listen.slice(colon + 1))];
}
