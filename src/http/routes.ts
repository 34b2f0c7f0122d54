// The routes an app registered, as the router knows them, so tests (and anyone
// auditing guards) can enumerate them: every guard must hold on every route,
// whatever spelling of its path reached it.
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  readonly method: string;
  /** The route's pattern, e.g. /api/rooms/:room/messages */
  readonly url: string;
}

const tables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Call right after creating the app: onRoute only sees routes added after it. */
export function trackRoutes(app: FastifyInstance): void {
  const table: RouteEntry[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) table.push({ method, url: route.url });
  });
}

export function listRoutes(app: FastifyInstance): readonly RouteEntry[] {
  return tables.get(app) ?? [];
}
