// The tutorial baseline as a bench target (bench/baseline/tutorial-server.ts): same
// URL shapes as Herald, no auth, run through tsx.
import { fileURLToPath } from 'node:url';
import { spawnServer } from '../proc/children.js';
import type { PublishSpec, SubscribeSpec } from '../loadgen/protocol.js';
import { HOST, freePort, topicIris, waitHealthy, type RunningTarget, type StartOptions, type Target } from './target.js';

const SERVER = fileURLToPath(new URL('../baseline/tutorial-server.ts', import.meta.url));

/** Mercure-shaped subscribe paths (Herald and the tutorial baseline share them). */
export function mercureSubscribeSpec(port: number, topicCount: number): SubscribeSpec {
  return {
    host: HOST,
    port,
    paths: topicIris(topicCount).map((t) => `/.well-known/mercure?topic=${encodeURIComponent(t)}`),
  };
}

/** A Mercure form publish; `headers` carries the Authorization where needed. */
export function mercurePublishSpec(topicCount: number, headers: Record<string, string>): PublishSpec {
  return {
    pathTemplate: '/.well-known/mercure',
    bodyTemplate: 'topic={topic}&data={data}',
    form: true,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    topics: topicIris(topicCount).map(encodeURIComponent),
  };
}

export const tutorialTarget: Target = {
  name: 'tutorial',
  unavailable: async () => null,
  async start(options: StartOptions): Promise<RunningTarget> {
    const port = await freePort();
    const proc = spawnServer(process.execPath, ['--import', 'tsx', SERVER, '--port', String(port), '--host', HOST], {
      cpus: options.cpus,
      lifetimeSeconds: options.lifetimeSeconds,
    });
    await waitHealthy(proc, port, '/healthz', 20_000);
    return {
      host: HOST,
      port,
      process: proc,
      roots: [proc.pid],
      subscribeSpec: (topicCount) => mercureSubscribeSpec(port, topicCount),
      publishSpec: (topicCount) => mercurePublishSpec(topicCount, {}),
      stop: () => proc.stop(),
    };
  },
};
