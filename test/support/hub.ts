// A Hub without HTTP, for unit tests of what sits beside it (telemetry, samplers):
// memory broker, no keys, anonymous, no heartbeats, no presence.
import { pino } from 'pino';
import type { Broker } from '../../src/broker/types.js';
import { Hub, type HubSettings } from '../../src/hub/hub.js';

export const TEST_HUB_URL = 'https://hub.example';

export function createTestHub(broker: Broker, overrides: Partial<HubSettings> = {}): Promise<Hub> {
  return Hub.create({
    broker,
    authenticator: undefined,
    settings: {
      publicUrl: TEST_HUB_URL,
      anonymous: true,
      heartbeatSeconds: 0,
      replayMax: 100,
      subscriberBuffer: 1 << 20,
      maxTopics: 10,
      dataLimit: 10_000,
      subscriptions: false,
      ...overrides,
    },
    logger: pino({ level: 'silent' }),
  });
}
