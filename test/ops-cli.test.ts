// The CLI as a new user meets it: --version, exit statuses, a busy port, where the
// data lives, keys from files, and the legacy Mercure `target=` field refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { hubUrl, publish, publishOk, PUBLISHER_KEY, publisherToken, useHerald } from './support/herald.js';
import { spawnHerald } from './support/process.js';
import { collect } from './support/stream.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'herald-ops-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], cwd = process.cwd()): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--version prints package.json\'s version and exits 0', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = cli(['--version']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${pkg.version}\n`);
});

test('every configuration error exits 2 with a message naming the option', () => {
  const cases: Array<[string[], RegExp]> = [
    [['serve', '--store', 'postgres://db'], /--store: expected memory, sqlite:<path>, redis:\/\/host:port\/db, redis-sentinel:.* or redis-cluster:/],
    [['serve', '--heartbeat', '-5'], /--heartbeat: expected a number from 0 to 3600, got "-5"/],
    [['serve', '--port', 'eighty'], /--port: expected a whole number/],
    [['serve', '--nope'], /Unknown option '--nope'/],
    [['serve', '--publisher-jwt-key-file', join(dir, 'missing.key')], /--publisher-jwt-key-file: cannot read/],
    [['serve', '--workers', '2', '--store', 'memory'], /--workers 2 needs --store redis/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of cases) {
    const result = cli(args);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test('a busy port: exit 2, naming the port and suggesting --port', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const result = cli(['serve', '--host', '127.0.0.1', '--port', String(port), '--store', 'memory', '--log-level', 'silent']);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`));
  } finally {
    blocker.close();
  }
});

test('the data file is logged with its absolute path at start; a key file works like the inline key', async () => {
  const keyFile = join(dir, 'publisher.key');
  writeFileSync(keyFile, `${PUBLISHER_KEY}\n`, { mode: 0o600 });
  const herald = await spawnHerald(['--store', `sqlite:${join(dir, 'relative-check.db')}`, '--no-chat', '--publisher-jwt-key-file', keyFile]);
  try {
    const line = herald.output().split('\n').find((l) => l.includes('"dataFile"'));
    assert.ok(line !== undefined, herald.output());
    assert.equal((JSON.parse(line) as { dataFile: string }).dataFile, join(dir, 'relative-check.db'));
    await publishOk(herald.url, { topic: 'urn:keyfile', data: 'signed with the key from the file' }, await publisherToken());
    assert.doesNotMatch(herald.output(), new RegExp(PUBLISHER_KEY), 'the key is never logged');
  } finally {
    assert.equal(await herald.stop(), 0);
  }
});

describe('the legacy Mercure target= field', () => {
  const fixture = useHerald();

  test('a form with target= is refused with 400 invalid_field saying what to use; nothing is published', async () => {
    const stream = collect(hubUrl(fixture.herald.url, [['topic', 'urn:target']]));
    try {
      await stream.opened;
      const refused = await publish(fixture.herald.url, [['topic', 'urn:target'], ['data', 'meant for alice only'], ['target', 'alice']], fixture.token);
      assert.equal(refused.status, 400);
      const body = JSON.parse(refused.body) as { error: string; message: string };
      assert.equal(body.error, 'invalid_field');
      assert.match(body.message, /"target".*private.*mercure\.subscribe/);
      const batch = await fetch(`${fixture.herald.url}/.well-known/mercure`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${fixture.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ updates: [{ topic: 'urn:target', data: 'x', target: ['alice'] }] }),
      });
      assert.equal(batch.status, 400);
      assert.match((await batch.json() as { message: string }).message, /updates\[0\]: "target"/);
      // The next public update is the first event the subscriber sees.
      const id = await publishOk(fixture.herald.url, { topic: 'urn:target', data: 'public' }, fixture.token);
      const events = await stream.waitFor(1);
      assert.deepEqual(events.map((e) => e.id), [id]);
    } finally {
      stream.close();
    }
  });
});
