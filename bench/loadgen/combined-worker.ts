// One load-generator process that both holds the subscribers and publishes: on a
// single load CPU, the latency scenarios then have no second process to wait for.
import './subscriber-worker.js';
import './publisher-worker.js';
