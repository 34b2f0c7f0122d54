// Redis for the cluster: asks whether one already answers at the store URL, and
// starts a private, non-persistent redis-server child when it does not (or when a
// test wants one it can kill and restart without touching the shared server).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { manage, readLines, type ManagedChild } from './children.js';

export interface RedisServer extends ManagedChild {
  readonly port: number;
  readonly url: string;
}

/** True when something at the URL's host:port answers PING like Redis (an auth error counts). */
export function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || 6379);
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

/** Starts `redis-server` on 127.0.0.1:port without persistence; resolves once it accepts connections. */
export async function startRedisServer(port: number, options: { onLine?: (line: string) => void; timeoutMs?: number } = {}): Promise<RedisServer> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const managed = manage('redis-server', child);
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${options.timeoutMs ?? 10_000} ms:\n${output}`)), options.timeoutMs ?? 10_000);
    readLines(child, (line) => {
      output += `${line}\n`;
      options.onLine?.(line);
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run redis-server: ${error.message}`));
    });
    void managed.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) while starting:\n${output}`));
    });
  });
  try {
    await ready;
  } catch (error) {
    await managed.stop('SIGKILL');
    throw error;
  }
  return { ...managed, port, url: `redis://127.0.0.1:${port}/0` };
}
