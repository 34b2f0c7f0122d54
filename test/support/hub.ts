// A Hub without HTTP, for unit tests of what sits beside it (telemetry, samplers):
// memory broker, no keys, anonymous, no heartbeats, no presence.
import { pino } from 'pino';
import type { Broker } from '../../src/broker/types.js';
import { Hub, type HubOptions } from '../../src/hub/hub.js';

export const TEST_HUB_URL = 'https://hub.example';

export function createTestHub(broker: Broker, overrides: Partial<HubOptions> = {}): Promise<Hub> {
  return Hub.create({
    broker,
    authenticator: undefined,
    hubUrl: TEST_HUB_URL,
    anonymous: true,
    heartbeatMs: 0,
    replayMax: 100,
    maxPendingBytes: 1 << 20,
    publication: { maxTopics: 10, maxDataBytes: 10_000 },
    subscriptionEvents: false,
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}
