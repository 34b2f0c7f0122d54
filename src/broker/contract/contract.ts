// The one Broker contract. Every implementation (memory, SQLite, Redis) runs these
// cases through its own factory from its test file, so the hub can rely on the same
// semantics whatever the store:
//
//   runBrokerContract('redis', { durable: true, shared: true, create: async (opts) => ... });
//
// The cases live in contract-*.ts by theme; this module only assembles them.
import { describe } from 'node:test';
import type { BrokerFactory } from './kit.js';
import { historyCases } from './history.js';
import { presenceCases } from './presence.js';
import { presenceEventCases } from './presence-events.js';
import { publishCases } from './publish.js';
import { retentionCases } from './retention.js';
import { durableCases, sharedCases } from './shared.js';

export type { BrokerFactory, BrokerHandle, BrokerOptions } from './kit.js';
export { KEEP_ALL, ManualClock, Recorder, idRange, makeUpdate } from './kit.js';

/**
 * Registers the contract cases (node:test) for one implementation. Each case opens a
 * fresh store with `factory.create` and cleans it up, pass or fail. Cases for
 * durable and shared stores are reported as skipped when the factory is neither.
 */
export function runBrokerContract(name: string, factory: BrokerFactory): void {
  describe(`Broker contract: ${name}`, () => {
    publishCases(factory);
    historyCases(factory);
    retentionCases(factory);
    presenceCases(factory);
    presenceEventCases(factory);
    durableCases(factory);
    sharedCases(factory);
  });
}
