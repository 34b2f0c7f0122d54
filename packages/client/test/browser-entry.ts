// Bundled for the tab-sharing test's page: exposes the client to page.evaluate().
import { subscribe } from '../src/index.js';

(globalThis as { heraldClient?: unknown }).heraldClient = { subscribe };
