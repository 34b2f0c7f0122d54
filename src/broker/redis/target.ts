// The three --store forms that reach Redis, parsed once: `redis://` (one server),
// `redis-sentinel://` (the primary that Sentinel names) and `redis-cluster://` (a Redis
// Cluster, from any of its nodes). Credentials stay out of the description (logs, /readyz).
import { HeraldError } from '../../errors.js';

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

interface Credentials {
  readonly username?: string;
  readonly password?: string;
}

export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string; readonly description: string }
  | { readonly kind: 'sentinel'; readonly nodes: readonly RedisNode[]; readonly masterName: string; readonly db: number; readonly auth: Credentials; readonly tls: boolean; readonly description: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[]; readonly auth: Credentials; readonly tls: boolean; readonly description: string };

export const STANDALONE_SYNTAX = 'redis://host:port/db';
export const SENTINEL_SYNTAX = 'redis-sentinel://host:port,host:port/mastername';
export const CLUSTER_SYNTAX = 'redis-cluster://host:port,host:port';

/** Seed nodes one URL may list: enough for any real deployment, bounded for a hostile config. */
const MAX_NODES = 64;
const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_REDIS_PORT = 6379;

// scheme://[user[:pass]@]host[:port][,host[:port]...][/path][?query]
const MULTI_HOST = /^(rediss?-(?:sentinel|cluster)):\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;

export function isSentinelUrl(store: string): boolean {
  return /^rediss?-sentinel:\/\/./.test(store);
}

export function isClusterUrl(store: string): boolean {
  return /^rediss?-cluster:\/\/./.test(store);
}

/** Parses any of the three forms; a malformed one is invalid_config, naming the expected syntax. */
export function parseRedisStore(store: string): RedisTarget {
  if (!isSentinelUrl(store) && !isClusterUrl(store)) return { kind: 'standalone', url: store, description: describeStandalone(store) };
  const cluster = isClusterUrl(store);
  const syntax = cluster ? CLUSTER_SYNTAX : SENTINEL_SYNTAX;
  const match = MULTI_HOST.exec(store);
  if (match === null) throw new HeraldError('invalid_config', `Invalid Redis URL; expected ${syntax}`);
  const [, scheme = '', userinfo, hosts = '', path = '', query = ''] = match;
  const nodes = parseNodes(hosts, cluster ? DEFAULT_REDIS_PORT : DEFAULT_SENTINEL_PORT, syntax);
  const auth = parseCredentials(userinfo);
  const tls = scheme.startsWith('rediss');
  const shown = `${scheme}://${nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (cluster) {
    if (path !== '' && path !== '/') throw new HeraldError('invalid_config', `A Redis Cluster URL takes no path (a cluster has one database); expected ${syntax}`);
    return { kind: 'cluster', nodes, auth, tls, description: shown };
  }
  const masterName = decodeURIComponent(path.slice(1));
  if (!/^[\w.:-]{1,128}$/.test(masterName)) throw new HeraldError('invalid_config', `A Redis Sentinel URL must name the master: ${syntax}`);
  const dbParam = new URLSearchParams(query.slice(1)).get('db') ?? '0';
  if (!/^\d{1,4}$/.test(dbParam)) throw new HeraldError('invalid_config', `The db of a Redis Sentinel URL is a number (?db=0)`);
  return { kind: 'sentinel', nodes, masterName, db: Number(dbParam), auth, tls, description: `${shown}/${masterName}${dbParam === '0' ? '' : `?db=${dbParam}`}` };
}

/** The URL without credentials, for logs and /readyz. Rejects anything but the three forms. */
export function describeRedisUrl(store: string): string {
  return parseRedisStore(store).description;
}

function describeStandalone(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HeraldError('invalid_config', `Invalid Redis URL; expected redis://[user:pass@]host:port/db`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new HeraldError('invalid_config', `Redis URL must start with redis://, rediss://, redis-sentinel:// or redis-cluster://, got ${parsed.protocol}//`);
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

function parseNodes(hosts: string, defaultPort: number, syntax: string): RedisNode[] {
  const parts = hosts.split(',');
  if (parts.length > MAX_NODES) throw new HeraldError('invalid_config', `A Redis URL lists at most ${MAX_NODES} nodes`);
  return parts.map((part) => {
    // host, host:port, [v6], [v6]:port
    const match = /^(\[[0-9a-fA-F:.]+\]|[\w.-]+)(?::(\d{1,5}))?$/.exec(part);
    const port = Number(match?.[2] ?? defaultPort);
    if (match === null || port < 1 || port > 65535) throw new HeraldError('invalid_config', `Invalid node "${part}" in a Redis URL; expected ${syntax}`);
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
}

function parseCredentials(userinfo: string | undefined): Credentials {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return { ...(username !== '' ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}
