// @herald/client for browsers and Node: subscribe to a Herald (or any Mercure) hub.
// The publisher and token helpers for Node backends are in `@herald/client/node`.
export { subscribe, streamUrl } from './subscribe.js';
export { HeraldClientError, type HeraldErrorCode } from './errors.js';
export { SseParser, type ParsedEvent, type ParserSink } from './sse-parser.js';
export type { TokenSource } from './token.js';
export type { ConnectionState, EventMap, Gap, Handlers, HeraldEvent, IdStorage, OpenInfo, Selector, SubscribeOptions, Subscription } from './types.js';
