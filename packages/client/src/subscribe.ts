// subscribe(): builds the hub URL from the selectors, picks a shared (all tabs, one
// stream) or a direct connection, and returns the handle the application keeps.
import { Delivery } from './delivery.js';
import { DirectConnection } from './direct.js';
import { canShare, SharedConnection } from './shared.js';
import type { ConnectionState, EventMap, Handlers, IdStorage, Selector, SubscribeOptions, Subscription } from './types.js';

const DEFAULT_HUB = '/.well-known/mercure';

/** The stream URL: each selector as its Mercure query parameter, in the order given. */
export function streamUrl(hub: string | URL, selectors: Selector | readonly Selector[]): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const url = base === undefined ? new URL(hub) : new URL(hub, base);
  const list: readonly Selector[] = typeof selectors === 'string' || !Array.isArray(selectors) ? [selectors as Selector] : selectors;
  if (list.length === 0) throw new TypeError('subscribe: at least one selector is required');
  for (const selector of list) {
    if (typeof selector === 'string') url.searchParams.append('topic', selector);
    else if ('topic' in selector) url.searchParams.append('topic', selector.topic);
    else if ('match' in selector) url.searchParams.append('match', selector.match);
    else url.searchParams.append('matchURLPattern', selector.urlPattern);
  }
  return url.toString();
}

function storageOf(persist: boolean | IdStorage | undefined): IdStorage | undefined {
  if (persist === undefined || persist === false) return undefined;
  if (persist !== true) return persist;
  try {
    return (globalThis as { localStorage?: IdStorage }).localStorage;
  } catch {
    return undefined; // storage disabled by the browser's settings
  }
}

/**
 * Follows `selectors` on the hub until close(). Events, gaps, state changes and errors
 * go to `handlers`; see SubscribeOptions for resumption, auth, timeouts and sharing.
 */
export function subscribe<M extends EventMap = { message: string }>(
  selectors: Selector | readonly Selector[],
  handlers: Handlers<M>,
  options: SubscribeOptions<M> = {},
): Subscription {
  const url = streamUrl(options.hub ?? DEFAULT_HUB, selectors);
  const store = storageOf(options.persist);
  const storage = store === undefined ? undefined : { store, key: options.storageKey ?? `herald:last-event-id:${url}` };
  const delivery = new Delivery<M>(handlers, options.decode, storage, options.lastEventId);
    const connection = (options.share ?? true) && canShare() ? new SharedConnection(`herald:${url}`, url, options, delivery) : new DirectConnection(url, options, delivery);
  return {
    get state(): ConnectionState {
      return delivery.current;
    },
    get lastEventId() {
      return delivery.lastEventId;
    },
    get leader() {
      return connection instanceof SharedConnection ? connection.leader : true;
    },
    reconnect: () => connection.reconnect(),
    close: () => connection.close(),
  };
}
