// Every option Herald understands, in one table: its flag, its HERALD_* variable,
// its type and default, and the Config field it fills. The Config type is made from
// the table, so a new option is one row here (and a field in the settings of whoever
// reads it, e.g. HubSettings). Parsed and validated once at start, then frozen; a bad
// value stops the process with a message that names the option.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_PRESENCE } from './broker/types.js';
import { SHARED_STORE_SYNTAX, STORE_SYNTAX, storeKind } from './broker/create.js';

type Kind = 'string' | 'int' | 'bool' | 'list';

interface OptionSpec {
  readonly kind: Kind;
  readonly default: string | number | boolean | readonly string[] | undefined;
  readonly help: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** The Config field it fills (default: the flag in camelCase); null: read by another option only (a key file). */
  readonly field?: string | null;
}

const OPTIONS = {
  port: { kind: 'int', default: 8080, min: 0, max: 65535, help: 'TCP port to listen on' },
  host: { kind: 'string', default: 'localhost', help: 'Address to bind (0.0.0.0 for every IPv4 interface)' },
  cert: { field: 'tlsCert', kind: 'string', default: undefined, help: 'TLS certificate (PEM file): serve HTTPS with HTTP/2 (HTTP/1.1 still accepted); needs --key' },
  key: { field: 'tlsKey', kind: 'string', default: undefined, help: 'TLS private key (PEM file), with --cert' },
  'trust-proxy': { kind: 'bool', default: false, help: 'Behind a reverse proxy: take the client address and scheme from X-Forwarded-For/-Proto' },
  'front-door': { kind: 'bool', default: true, help: 'Serve POST/GET /.well-known/mercure from a lean node:http listener in front of Fastify (--no-front-door: Fastify serves them; same behaviour, more CPU)' },
  'raw-front-door': { kind: 'bool', default: true, help: 'With --front-door: read the request heads of POST/GET /.well-known/mercure on the TCP sockets with Herald\'s own strict HTTP/1 parser (anything else goes to Node\'s HTTP server unchanged); no per-request IncomingMessage/ServerResponse' },
  'public-url': { kind: 'string', default: undefined, help: 'Public base URL of the hub, used to resolve relative topics (default http://localhost:<port>)' },
  store: { kind: 'string', default: 'sqlite:./data/herald.db', help: 'Where updates live: sqlite:<path>, memory, redis://[user:pass@]host:port/db, redis-sentinel://host:port,host:port/mastername or redis-cluster://host:port,host:port (docs/redis.md)' },
  'redis-prefix': { kind: 'string', default: 'herald:', help: 'Prefix of every Redis key' },
  'redis-log-buckets': { kind: 'int', default: 1, min: 1, max: 256, help: 'Buckets the Redis log is sharded into by topic hash, each its own hash slot (docs/redis.md). 1: one slot, as before. Fixed per deployment: a process started with another number than the one stored refuses to start' },
  'redis-interest': { kind: 'bool', default: false, help: 'With --redis-log-buckets > 1: each process reads only the buckets of its subscribers\' exact topics (all of them once one has a pattern), and the buckets recorded as naming those topics as alternates (docs/redis.md)' },
  'redis-replicas-ack': { kind: 'int', default: 0, min: 0, max: 16, help: 'Replicas that must hold each update before its publish answers 200 (Redis WAIT); fewer within 800 ms: 503 store_unavailable, the update may still be stored. 0: replication is asynchronous and a failover can lose acknowledged updates (docs/redis.md)' },
  'publisher-jwt-key': { kind: 'string', default: undefined, help: 'Key verifying publishers\' JWTs: HS* secret, or PEM public key (text or file path)' },
  'subscriber-jwt-key': { kind: 'string', default: undefined, help: 'Key verifying subscribers\' JWTs (default: the publisher key)' },
  // Files keep secrets out of `ps` and shell history; the value is the file's text, trimmed.
  'publisher-jwt-key-file': { field: null, kind: 'string', default: undefined, help: 'File holding the publisher key (instead of --publisher-jwt-key, which `ps` shows)' },
  'subscriber-jwt-key-file': { field: null, kind: 'string', default: undefined, help: 'File holding the subscriber key (instead of --subscriber-jwt-key)' },
  'jwt-alg': { kind: 'string', default: 'HS256', choices: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'], help: 'JWT signature algorithm' },
  'jwt-issuer': { kind: 'string', default: undefined, help: 'The "iss" access tokens (header typ at+jwt, Mercure draft 08) must carry (unset: any, but one must be there); other tokens keep the 0.x rules' },
  'jwt-issuers-file': { kind: 'string', default: undefined, help: 'JSON file of more trusted issuers, each with its own keys: {"<iss>": {"alg": "ES256", "key": "<PEM or path>"} | {"jwksUrl": "..."} | {"alg": "HS256", "publisherKey": "...", "subscriberKey": "..."}}; a token naming one of them is verified with its keys only (docs/security.md)' },
  'jwt-audience': { kind: 'string', default: undefined, help: 'The hub\'s resource identifier, which the "aud" of access tokens (typ at+jwt) must name (default: <public-url>/.well-known/mercure)' },
  'jwks-url': { kind: 'string', default: undefined, help: 'JWKS URL whose keys verify public-key JWTs (RS*, PS*, ES*, EdDSA) of publishers and subscribers; cached 10 min, refetched for an unknown kid' },
  'mercure-profile': { kind: 'string', default: 'compat', choices: ['compat', 'draft'], help: 'compat: Mercure draft 08 access tokens (typ at+jwt) beside 0.x tokens, which keep the 0.x rules; draft: access tokens only (so exp, iss and aud always checked), never in the URL, --jwt-issuer (or --jwt-issuers-file) required; the chat then signs its sessions as access tokens of --jwt-issuer; docs/mercure.md' },
  'query-tokens': { kind: 'bool', default: true, help: 'Accept a 0.x token in the URL (?authorization= or ?access_token=) for 0.x clients; an access token (typ at+jwt) there is always refused (400 invalid_request); --no-query-tokens (or --mercure-profile draft) refuses any' },
  anonymous: { kind: 'bool', default: true, help: 'Allow subscribers without a token (they get public updates only)' },
  'cors-origins': { kind: 'list', default: [], help: 'Comma-separated origins allowed to subscribe/publish cross-origin, with credentials (cookies, Authorization); * alone: any origin, without credentials (no cookie-authorised cross-origin request is ever let through); * cannot be mixed with origins' },
  heartbeat: { field: 'heartbeatSeconds', kind: 'int', default: 15, min: 0, max: 3600, help: 'Seconds between heartbeat comments on idle streams (0: none)' },
  'dead-peer-retransmits': { kind: 'int', default: 6, min: 0, max: 15, help: 'Linux: an HTTP/1.1 event stream whose data the client has not acknowledged through this many retransmissions in a row (about 13 s at 6) is dropped, checked every 5 s (0: never; the kernel then gives up after about 15 min); finds clients whose network vanished while heartbeats or updates were in flight, where TCP keepalive cannot' },
  'history-max-per-topic': { kind: 'int', default: 1000, min: 0, max: 10_000_000, help: 'Updates kept per topic (0: unlimited)' },
  'history-max-age': { field: 'historyMaxAgeSeconds', kind: 'int', default: 604800, min: 0, max: 315_360_000, help: 'Seconds an update is kept (0: forever)' },
  'history-max-total': { kind: 'int', default: 200_000, min: 1, max: 100_000_000, help: 'Updates kept in the whole log' },
  'presence-history': { kind: 'int', default: DEFAULT_MAX_PRESENCE, min: 0, max: 10_000_000, help: 'Subscription events (presence) kept in history, apart from --history-max-total and never evicting messages (0: delivered live only)' },
  retry: { field: 'retryMs', kind: 'int', default: 0, min: 0, max: 600_000, help: 'Reconnection delay in ms (SSE retry:) sent at the start of every stream, e.g. 500 for a quick comeback after a failover (0: none, the browser default of about 3 s)' },
  'max-connection-lifetime': { field: 'maxConnectionLifetimeSeconds', kind: 'int', default: 0, min: 0, max: 31_536_000, help: 'Seconds an event stream may stay open whatever its token\'s exp (0: no limit); each ends somewhere in the last 10% of it (no reconnect storm), cleanly, and the client resumes with Last-Event-ID and presents its token again (draft 08)' },
  'replay-max': { kind: 'int', default: 10_000, min: 1, max: 10_000_000, help: 'Most updates replayed to one subscriber on (re)connect' },
  'body-limit': { kind: 'int', default: undefined, min: 1024, max: 1_073_741_824, help: 'Largest request body in bytes (413 past it; default 3 x --data-limit + 64 KiB, so a form-encoded update of --data-limit bytes fits)' },
  'data-limit': { kind: 'int', default: 1_048_576, min: 1, max: 1_073_741_824, help: 'Largest "data" of one update, in bytes (413 past it)' },
  'max-topics': { kind: 'int', default: 100, min: 1, max: 10_000, help: 'Most topics one update may carry (413 too_many_topics past it), and most selectors of one subscription (400 too_many_items past it)' },
  'max-selector-cost': { kind: 'int', default: 5000, min: 1, max: 100_000_000, help: 'Most matching steps per topic character one subscription\'s selectors may cost in total (400 selectors_too_costly past it; see docs/security.md)' },
  'publish-rate': { kind: 'int', default: 0, min: 0, max: 10_000_000, help: 'Updates per second one publisher may sustain (0: no limit; 429 + Retry-After past it)' },
  'publish-burst': { kind: 'int', default: 1000, min: 1, max: 10_000_000, help: 'Updates one publisher may send at once before --publish-rate applies' },
  'publish-rate-by': { kind: 'string', default: 'token', choices: ['token', 'ip'], help: 'Who --publish-rate counts: each token, or each client address (a proxy in front is one address)' },
  'max-subscriptions-per-ip': { kind: 'int', default: 0, min: 0, max: 10_000_000, help: 'Open event streams one client address may hold (0: no limit; 429 past it)' },
  'header-timeout': { field: 'headerTimeoutSeconds', kind: 'int', default: 10, min: 1, max: 3600, help: 'Seconds a client has to send a whole request head (408 and close past it); counts from the connection or the previous response' },
  'request-timeout': { field: 'requestTimeoutSeconds', kind: 'int', default: 300, min: 0, max: 86_400, help: 'Seconds a request may take to arrive, head and body (0: no limit); an event stream is not affected once its head arrived' },
  'listen-backlog': { kind: 'int', default: 4096, min: 1, max: 65535, help: 'Connections the kernel queues before Herald accepts them (the kernel caps it at net.core.somaxconn); Node\'s 511 overflows when thousands of clients reconnect at once' },
  'keep-alive-timeout': { field: 'keepAliveTimeoutSeconds', kind: 'int', default: 72, min: 1, max: 3600, help: 'Seconds an idle keep-alive connection (or HTTP/2 session) stays open; keep it above a proxy\'s upstream keepalive timeout' },
  'max-pending-per-ip': { kind: 'int', default: 0, min: 0, max: 10_000_000, help: 'Connections one client address may hold before their first request head arrived (0: no limit; more are closed at once)' },
  'max-connections': { kind: 'int', default: 0, min: 0, max: 10_000_000, help: 'Open event streams in total (0: no limit; 503 + Retry-After past it)' },
  'subscriber-buffer': { kind: 'int', default: 4_194_304, min: 16_384, max: 1_073_741_824, help: 'Bytes queued for one slow subscriber before it is disconnected' },
  chat: { kind: 'bool', default: true, help: 'Serve the chat room: its page at / and its API under /api' },
  'chat-history': { kind: 'int', default: 50, min: 1, max: 500, help: 'Messages a chat room shows on joining' },
  'chat-history-scan': { kind: 'int', default: 10_000, min: 100, max: 100_000_000, help: 'Most kept updates one chat history request examines, all rooms together (past it: "more" and a "next" cursor)' },
  'chat-max-length': { kind: 'int', default: 2000, min: 1, max: 100_000, help: 'Longest chat message, in characters' },
  workers: { kind: 'int', default: 1, min: 1, max: 64, help: 'Processes serving this port (node:cluster); more than 1 needs a Redis --store (redis://, redis-sentinel:// or redis-cluster://)' },
  subscriptions: { kind: 'bool', default: true, help: 'Publish subscription events and serve the subscriptions API (presence; the chat needs it)' },
  'subscriptions-format': { kind: 'string', default: 'draft', choices: ['draft', '0.x', 'both'], help: 'Shape of subscription events and of the subscriptions API: draft (Mercure draft 08: topic .../subscriptions/{match_type}/{match}/{subscriber}, event type mercure, application/json), 0.x (.../subscriptions/{topic}/{subscriber}, JSON-LD, event type message), or both (two events per change; docs/mercure.md)' },
  'subscriptions-scan': { kind: 'int', default: 10_000, min: 100, max: 100_000_000, help: 'Most subscription records one subscriptions API collection request examines (past it the list is cut and the reply says Herald-Subscriptions-Truncated: 1; a single subscription is a lookup, not a scan)' },
  'log-level': { kind: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'Log level' },
  metrics: { kind: 'bool', default: true, help: 'Serve Prometheus metrics at /metrics' },
  'status-page': { kind: 'bool', default: true, help: 'Serve the live status page at /status (fed by /status/stream)' },
  'shutdown-timeout': { field: 'shutdownTimeoutMs', kind: 'int', default: 5000, min: 100, max: 600_000, help: 'Milliseconds a graceful shutdown (SIGTERM, SIGINT) may take before the process exits anyway' },
  'shutdown-retry': { field: 'shutdownRetryMs', kind: 'int', default: 2000, min: 0, max: 600_000, help: 'Reconnection delay in ms (SSE retry:) told to streams closed by a shutdown, spread +-50%' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

type Spec = typeof OPTIONS;
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type FieldOf<N extends OptionName> = Spec[N] extends { readonly field: infer F } ? F : CamelCase<N>;
type ValueOf<S> = S extends { kind: 'int' } ? number : S extends { kind: 'bool' } ? boolean : S extends { kind: 'list' } ? readonly string[] : S extends { choices: readonly (infer C)[] } ? C : string;
/** Without a default, an option may be left unset. */
type Given<S> = S extends { default: undefined } ? ValueOf<S> | undefined : ValueOf<S>;
type TableFields = { readonly [N in OptionName as FieldOf<N> & string]: Given<Spec[N]> };

/** The fields loadConfig computes from others rather than copies (their options have no fixed default). */
interface Derived {
  /** --public-url, or http(s)://localhost:<port>; no trailing slash. */
  readonly publicUrl: string;
  /** --body-limit, or one that carries a form-encoded update of --data-limit bytes. */
  readonly bodyLimit: number;
}

/** The options as the code reads them, one field per row of OPTIONS (the key files fill the keys). */
export type Config = Omit<TableFields, keyof Derived> & Derived;

function fieldOf(name: OptionName): string | null {
  const spec: OptionSpec = OPTIONS[name];
  return spec.field === undefined ? name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()) : spec.field;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function envName(option: string): string {
  return `HERALD_${option.toUpperCase().replace(/-/g, '_')}`;
}

type Value = string | number | boolean | readonly string[] | undefined;

function convert(name: string, spec: OptionSpec, raw: string, source: string): Value {
  const fail = (expected: string): never => {
    throw new ConfigError(`--${name}: expected ${expected}, got ${JSON.stringify(raw)} (from ${source})`);
  };
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) fail(spec.min === undefined ? 'a whole number' : `a whole number from ${spec.min} to ${spec.max}`);
      const n = Number(raw);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) fail(`a number from ${spec.min} to ${spec.max}`);
      return n;
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on', ''].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      return fail('true or false');
    }
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) fail(`one of ${spec.choices.join(', ')}`);
      return raw;
  }
}

/** A key given inline or as `--<name>-file` (not both). */
function keyFrom(values: Record<OptionName, Value>, name: 'publisher-jwt-key' | 'subscriber-jwt-key'): string | undefined {
  const inline = values[name] as string | undefined;
  const file = values[`${name}-file`] as string | undefined;
  if (file === undefined) return inline;
  if (inline !== undefined) throw new ConfigError(`--${name} and --${name}-file are both set: keep one`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`--${name}-file: cannot read ${JSON.stringify(file)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (text === '') throw new ConfigError(`--${name}-file: ${JSON.stringify(file)} is empty`);
  return text;
}

/** Reads flags (highest precedence), then HERALD_* variables, then defaults. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Config {
  const names = Object.keys(OPTIONS) as OptionName[];
  const parseOptions: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of names) {
    parseOptions[name] = { type: 'string' };
    if (OPTIONS[name].kind === 'bool') parseOptions[`no-${name}`] = { type: 'boolean' };
  }
  let flags: Record<string, string | boolean | undefined>;
  try {
    // Booleans take an optional value (`--anonymous=false`); a bare flag means true.
    const normalized: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      const bare = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : '';
      const kind = bare in OPTIONS ? OPTIONS[bare as OptionName].kind : undefined;
      if (kind === 'bool') normalized.push(`${arg}=true`);
      // `--heartbeat -5`: parseArgs would call it "ambiguous"; joined, the value check names the range.
      else if (kind !== undefined && /^-\d/.test(argv[i + 1] ?? '')) normalized.push(`${arg}=${argv[++i]}`);
      else normalized.push(arg);
    }
    flags = parseArgs({ args: normalized, options: parseOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run "herald serve --help" for the options.`);
  }
  const values = {} as Record<OptionName, Value>;
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    const flag = flags[name];
    const fromEnv = env[envName(name)];
    if (flags[`no-${name}`] === true) values[name] = false;
    else if (typeof flag === 'string') values[name] = convert(name, spec, flag, `--${name}`);
    else if (fromEnv !== undefined && fromEnv !== '') values[name] = convert(name, spec, fromEnv, envName(name));
    else values[name] = spec.default;
  }
  const port = values.port as number;
  const tls = values.cert !== undefined || values.key !== undefined;
  if (tls && (values.cert === undefined || values.key === undefined)) throw new ConfigError('--cert and --key go together: TLS needs both PEM files');
  const publicUrl = (values['public-url'] as string | undefined) ?? `${tls ? 'https' : 'http'}://localhost:${port}`;
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`--public-url: expected an absolute URL, got ${JSON.stringify(publicUrl)}`);
  }
  const store = values.store as string;
  const kind = storeKind(store);
  if (kind === undefined) throw new ConfigError(`--store: expected ${STORE_SYNTAX}, got ${JSON.stringify(store)}`);
  const publisherJwtKey = keyFrom(values, 'publisher-jwt-key');
  const subscriberJwtKey = keyFrom(values, 'subscriber-jwt-key');
  const workers = values.workers as number;
  if (workers > 1 && !kind.shared) {
    throw new ConfigError(`--workers ${workers} needs --store ${SHARED_STORE_SYNTAX}: workers share history, fan-out and presence through the store`);
  }
  const dataLimit = values['data-limit'] as number;
  const bodyLimit = bodyLimitFor(values['body-limit'] as number | undefined, dataLimit);
  if (values.chat === true && !(values['jwt-alg'] as string).startsWith('HS')) {
    throw new ConfigError(`--jwt-alg ${values['jwt-alg'] as string}: the chat signs its session cookies with an HMAC subscriber key (HS256/384/512); add --no-chat, or use an HS* algorithm`);
  }
  if (values.chat === true && values.subscriptions === false) {
    throw new ConfigError('--no-subscriptions turns presence off, and the chat needs it for its online list: add --no-chat, or keep subscriptions on');
  }
  const corsOrigins = values['cors-origins'] as readonly string[];
  if (corsOrigins.includes('*') && corsOrigins.length > 1) {
    throw new ConfigError(`--cors-origins ${corsOrigins.join(',')}: "*" (any origin, without credentials) cannot be mixed with origins (allowed with credentials); keep one`);
  }
  if (values['mercure-profile'] === 'draft') {
    if (values['jwt-issuer'] === undefined && values['jwt-issuers-file'] === undefined) throw new ConfigError('--mercure-profile draft needs --jwt-issuer (or --jwt-issuers-file): access tokens must name a trusted issuer');
    if (values.chat === true && values['jwt-issuer'] === undefined) throw new ConfigError('--mercure-profile draft with the chat needs --jwt-issuer: the chat signs its sessions as access tokens of that issuer (or add --no-chat)');
  }
  const requestTimeout = values['request-timeout'] as number;
  if (requestTimeout > 0 && requestTimeout < (values['header-timeout'] as number)) {
    throw new ConfigError(`--request-timeout ${requestTimeout} is shorter than --header-timeout ${String(values['header-timeout'])}: a request's head is part of it`);
  }
  const fields: Record<string, Value> = {};
  for (const name of names) {
    const field = fieldOf(name);
    if (field !== null) fields[field] = values[name];
  }
  return Object.freeze({
    ...fields,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    publisherJwtKey,
    subscriberJwtKey,
    corsOrigins: Object.freeze([...(values['cors-origins'] as readonly string[])]),
    bodyLimit,
  }) as Config;
}

/** Room for the other fields of a form (topics, id, type) beside `data`. */
const FORM_OVERHEAD = 64 * 1024;

/**
 * Form encoding may triple `data` (every non-ASCII byte becomes %XX), so the default
 * body limit leaves room for that; a body limit set below `data` plus the other
 * fields would make --data-limit unreachable, which is refused at start.
 */
function bodyLimitFor(configured: number | undefined, dataLimit: number): number {
  if (configured === undefined) return Math.min(1_073_741_824, Math.max(1_048_576, dataLimit * 3 + FORM_OVERHEAD));
  if (configured < dataLimit + FORM_OVERHEAD) {
    throw new ConfigError(`--body-limit ${configured} cannot carry an update of --data-limit ${dataLimit} bytes: raise --body-limit to at least ${dataLimit + FORM_OVERHEAD} (3 x data + 64 KiB for any form-encoded data), or lower --data-limit`);
  }
  return configured;
}

/** The text of `herald serve --help`, made from the same table. */
export interface OptionDoc {
  readonly flag: string;
  readonly env: string;
  /** The default as text; '' when there is none. */
  readonly default: string;
  readonly help: string;
}

/** Every option, for --help and for the README's table (a test keeps them equal). */
export function optionDocs(): OptionDoc[] {
  return (Object.keys(OPTIONS) as OptionName[]).map((name) => {
    const spec: OptionSpec = OPTIONS[name];
    const shown = Array.isArray(spec.default) ? spec.default.join(',') : spec.default;
    return { flag: `--${name}`, env: envName(name), default: shown === undefined ? '' : String(shown), help: spec.help };
  });
}

/** The README's configuration table, in Markdown. */
export function optionsMarkdown(): string {
  const rows = optionDocs().map((o) => `| \`${o.flag}\` | \`${o.env}\` | ${o.default === '' ? '—' : `\`${o.default}\``} | ${o.help.replace(/\|/g, '\\|')} |`);
  return ['| Flag | Variable | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

const PLACEHOLDERS: Record<Kind, string> = { int: '<n>', string: '<value>', list: '<a,b,...>', bool: '' };

/** How a flag is written in --help: `--port <n>`; a boolean `--chat, --no-chat`. */
function usage(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  if (spec.kind === 'bool') return `--${name}, --no-${name}`;
  return `--${name} ${spec.choices ? `<${spec.choices.join('|')}>`.slice(0, 40) : PLACEHOLDERS[spec.kind]}`;
}

export function helpText(): string {
  const names = Object.keys(OPTIONS) as OptionName[];
  const rows = optionDocs().map((o, i) => {
    const dflt = o.default === '' ? '' : ` (default: ${o.default})`;
    const flag = usage(names[i]!);
    const lead = flag.length > 34 ? `  ${flag}\n  ${''.padEnd(34)}` : `  ${flag.padEnd(34)}`;
    return `${lead} ${o.help}${dflt}\n  ${''.padEnd(34)} env ${o.env}`;
  });
  return [
    'Usage: herald serve [options]',
    '       herald backup <file> [--store sqlite:<path>]   (online copy of a live SQLite store)',
    '       herald --version',
    '',
    'Options (each also from its HERALD_* environment variable; a boolean is --x or --no-x, or --x=false):',
    ...rows,
    `  ${'--help'.padEnd(34)} Show this help`,
    `  ${'--version'.padEnd(34)} Print the version`,
    '',
    'Exit status: 0 stopped cleanly; 1 failed while running or shutting down; 2 bad option or configuration, or the port is busy.',
    '',
  ].join('\n');
}

/** Config for tests and embedding: defaults, overridden by `overrides`. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({ ...loadConfig([], {}), port: 0, host: '127.0.0.1', store: 'memory', logLevel: 'silent', ...overrides });
}
