// @herald/client/node: everything of the main entry, plus publishing and minting
// tokens, for backends (minting needs the optional peer dependency `jose`).
export * from './index.js';
export { Publisher, type PublisherOptions, type Update } from './publisher.js';
export { mintPublisherToken, mintSubscriberToken, mintToken, type Grants, type MintOptions } from './mint.js';
