// `npm run cluster` end to end, small: two Herald processes on free ports, its own
// redis-server (nothing answers on the port it is given), nginx in front. The chat page
// and one event go through nginx; SIGTERM to npm then leaves no process behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, isAlive, manage, readLines } from '../scripts/cluster/children.js';
import { canConnect, freePort } from '../scripts/cluster/ports.js';
import { hubUrl, mintToken, publishOk } from './support/herald.js';
import { skipWithout } from './support/nginx.js';
import { collect } from './support/stream.js';

const skip = skipWithout('nginx', 'redis-server');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'herald-cluster-'));
const leftovers: number[] = [];
after(() => {
  for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Two consecutive free ports for the Herald processes. */
async function freePair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (port < 65535 && !(await canConnect('127.0.0.1', port + 1, 200))) return port;
  }
  throw new Error('no two consecutive free ports');
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

test('npm run cluster: serves the chat and events through nginx; SIGTERM stops every child', { skip, timeout: 90_000 }, async () => {
  const [port, nodePort, redisPort] = [await freePort(), await freePair(), await freePort()];
  const args = ['run', 'cluster', '--', '--nodes', '2', '--port', String(port), '--node-port', String(nodePort), '--store', `redis://127.0.0.1:${redisPort}/0`, '--dir', dir];
  const npm = manage('npm', spawn('npm', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cluster was not ready within 60 s:\n${output}`)), 60_000);
    readLines(npm.child, (line) => {
      output += `${line}\n`;
      const match = /^cluster ready: \S+ \(nginx on (http:\/\/[^,]+),/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void npm.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm run cluster exited (${code}):\n${output}`));
    });
  });
  try {
    const url = await ready;
    // A freshly forked nginx worker shows its master's title until it renames itself.
    let pids = descendants(npm.child.pid!);
    for (let i = 0; i < 100 && !pids.map(commandOf).some((c) => c.startsWith('nginx: worker')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pids = descendants(npm.child.pid!);
    }
    leftovers.push(...pids);
    const commands = pids.map(commandOf);
    assert.equal(commands.filter((c) => c.startsWith('redis-server')).length, 1, commands.join('\n'));
    assert.equal(commands.filter((c) => c.includes('src/cli.ts serve')).length, 2, commands.join('\n'));
    assert.ok(commands.some((c) => c.startsWith('nginx: master')) && commands.some((c) => c.startsWith('nginx: worker')), commands.join('\n'));

    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Herald/);
    const key = readFileSync(join(dir, 'publisher-jwt.key'), 'utf8').trim();
    const topic = 'https://example.com/cluster-command';
    const stream = collect(hubUrl(url, [['topic', topic]]));
    try {
      await stream.opened;
      const id = await publishOk(url, { topic, data: 'through the cluster' }, await mintToken({ mercure: { publish: ['*'] } }, key));
      assert.deepEqual((await stream.waitFor(1)).map((e) => [e.id, e.data]), [[id, 'through the cluster']]);
    } finally {
      stream.close();
    }

    npm.child.kill('SIGTERM');
    const timer = setTimeout(() => npm.child.kill('SIGKILL'), 20_000);
    assert.equal(await npm.exited.finally(() => clearTimeout(timer)), 0, `npm run cluster did not stop cleanly within 20 s:\n${output}`);
    assert.deepEqual(pids.filter(isAlive).map((pid) => `${pid} ${commandOf(pid)}`), [], 'processes left behind');
    assert.equal(await canConnect('127.0.0.1', port, 500), false, 'nginx still listens');
    assert.match(output, /stopping the cluster \(SIGTERM\)/);
  } finally {
    await npm.stop('SIGKILL');
  }
});
