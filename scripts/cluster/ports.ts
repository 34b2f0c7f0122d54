// The cluster script's port helpers live in src (the hub uses them too).
export { canConnect, freePort, waitForPort } from '../../src/ports.js';
