// `npm run cluster` options: flags first, then HERALD_CLUSTER_* variables, then defaults.
import { parseArgs } from 'node:util';

export interface ClusterOptions {
  /** Herald processes behind nginx. */
  readonly nodes: number;
  /** Address and port nginx serves on. */
  readonly host: string;
  readonly port: number;
  /** Port of the first Herald process; the others follow it. */
  readonly nodePort: number;
  readonly store: string;
  readonly redisPrefix: string;
  /** Where nginx's prefix and the generated publisher key live. */
  readonly dir: string;
  readonly publicUrl: string;
  readonly subscriptionsPerAddress: number;
  readonly publishRate: string;
  readonly publishBurst: number;
  /** Extra `herald serve` flags for every process (after `--`). */
  readonly heraldArgs: readonly string[];
}

export const CLUSTER_HELP = `Usage: npm run cluster -- [options] [-- herald serve flags]

Starts Redis (when none answers at --store), N Herald processes and nginx
(deploy/nginx/herald.conf) in front of them; Ctrl-C stops them all.

  --nodes N                    Herald processes (default 3)             HERALD_CLUSTER_NODES
  --port P                     nginx port (default 8080)                HERALD_CLUSTER_PORT
  --host H                     nginx address (default 127.0.0.1)        HERALD_CLUSTER_HOST
  --node-port P                first Herald port (default port + 1)     HERALD_CLUSTER_NODE_PORT
  --store URL                  Redis (default redis://127.0.0.1:6379/0) HERALD_CLUSTER_STORE
  --redis-prefix P             key prefix (default herald:)             HERALD_CLUSTER_REDIS_PREFIX
  --dir D                      state directory (default ./data/cluster) HERALD_CLUSTER_DIR
  --public-url U               (default http://localhost:<port>)        HERALD_CLUSTER_PUBLIC_URL
  --subscriptions-per-address  nginx limit_conn (default 100)
  --publish-rate               nginx limit_req rate (default 50r/s)
  --publish-burst              nginx limit_req burst (default 100)
  --help`;

const SPEC = {
  nodes: '3',
  port: '8080',
  host: '127.0.0.1',
  'node-port': '',
  store: 'redis://127.0.0.1:6379/0',
  'redis-prefix': 'herald:',
  dir: './data/cluster',
  'public-url': '',
  'subscriptions-per-address': '100',
  'publish-rate': '50r/s',
  'publish-burst': '100',
} as const;

type Name = keyof typeof SPEC;

function integer(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Returns null when --help was asked for. Throws with a message naming the bad option. */
export function parseClusterOptions(argv: readonly string[], env: NodeJS.ProcessEnv): ClusterOptions | null {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const name of Object.keys(SPEC)) options[name] = { type: 'string' };
  const { values } = parseArgs({ args: [...own], options, strict: true, allowPositionals: false });
  if (values.help === true) return null;
  const raw = (name: Name): string => {
    const flag = values[name];
    if (typeof flag === 'string') return flag;
    const fromEnv = env[`HERALD_CLUSTER_${name.toUpperCase().replace(/-/g, '_')}`];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : SPEC[name];
  };
  const port = integer('port', raw('port'), 1, 65535);
  const nodes = integer('nodes', raw('nodes'), 1, 64);
  const nodePort = raw('node-port') === '' ? port + 1 : integer('node-port', raw('node-port'), 1, 65535 - nodes);
  if (port >= nodePort && port < nodePort + nodes) throw new Error(`--port ${port} collides with the Herald ports ${nodePort}-${nodePort + nodes - 1}`);
  return {
    nodes,
    host: raw('host'),
    port,
    nodePort,
    store: raw('store'),
    redisPrefix: raw('redis-prefix'),
    dir: raw('dir'),
    publicUrl: raw('public-url') === '' ? `http://localhost:${port}` : raw('public-url'),
    subscriptionsPerAddress: integer('subscriptions-per-address', raw('subscriptions-per-address'), 1, 1_000_000),
    publishRate: raw('publish-rate'),
    publishBurst: integer('publish-burst', raw('publish-burst'), 1, 1_000_000),
    heraldArgs: split < 0 ? [] : argv.slice(split + 1),
  };
}
