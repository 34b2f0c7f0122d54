// --redis-replicas-ack: after a write, Redis' WAIT until N replicas have it, so that a
// publish answering 200 survives the primary's loss (replication is asynchronous:
// without this, a failover drops whatever the promoted replica had not received).
import { HeraldError } from '../../errors.js';
import { COMMAND_TIMEOUT_MS, storeError, type RedisClient } from './connection.js';

/** How long WAIT may block: inside the command timeout, so Redis answers before the client gives up. */
export const WAIT_TIMEOUT_MS = COMMAND_TIMEOUT_MS - 200;

/**
 * Resolves once `replicas` replicas hold every write made so far on the connection
 * that wrote `key` (WAIT covers a connection's earlier writes). On a Cluster the
 * pipeline's key routes WAIT to the node owning that key's slot, i.e. the one that
 * ran the write. Rejects with store_unavailable otherwise; the write itself stays.
 */
export async function awaitReplicas(client: RedisClient, key: string, replicas: number): Promise<void> {
  if (replicas <= 0) return;
  let acknowledged: number;
  try {
    const replies = (await client.pipeline().exists(key).wait(replicas, WAIT_TIMEOUT_MS).exec()) ?? [];
    const [error, count] = replies[1] ?? [new Error('no reply to WAIT'), 0];
    if (error) throw error;
    acknowledged = Number(count);
  } catch (error) {
    throw storeError(error, 'the update may or may not be stored (a retry with the same id answers 400 if it is)');
  }
  if (acknowledged < replicas) {
    throw new HeraldError(
      'store_unavailable',
      `Only ${acknowledged} of the ${replicas} Redis replicas required (--redis-replicas-ack) confirmed the update within ${WAIT_TIMEOUT_MS} ms; it is stored on the primary but may be lost in a failover (a retry with the same id answers 400 if it is still there)`,
      {},
      { stored: 'unconfirmed', replicasAcknowledged: acknowledged, replicasRequired: replicas },
    );
  }
}
