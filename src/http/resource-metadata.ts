// OAuth 2.0 Protected Resource Metadata (RFC 9728) for the hub, as draft 08 describes
// it: where a client learns the resource identifier to put in a token's `aud`, which
// presentation methods and authorization detail types the hub takes, its matcher types
// and whether it has the active subscriptions feature. Served at the path RFC 9728
// derives from the hub URL (/.well-known/oauth-protected-resource/.well-known/mercure)
// and at the bare well-known path, and named by `resource_metadata` in every Bearer
// challenge (both doors add it to the reply, errors.ts and front-door.ts).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { DRAFT_COOKIE_NAME, MERCURE_DETAIL_TYPE } from '../hub/auth/authenticator.js';
import { HUB_PATH } from '../hub/mercure-paths.js';
import { MATCHER_TYPE_NAMES } from './subscribe-params.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';
/** RFC 9728 section 3.1: the well-known prefix, then the resource's path. */
export const METADATA_PATH = `${WELL_KNOWN}${HUB_PATH}`;

export interface ResourceMetadata {
  readonly resource: string;
  readonly authorization_details_types_supported: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly mercure_cookie: string;
  readonly mercure_matcher_types_supported: readonly string[];
  readonly mercure_subscriptions?: true;
}

type MetadataConfig = Pick<Config, 'publicUrl' | 'jwtAudience' | 'subscriptions' | 'mercureProfile'>;

/** Where the document is, as a challenge names it. */
export function metadataUrl(config: Pick<Config, 'publicUrl'>): string {
  return `${config.publicUrl}${METADATA_PATH}`;
}

export function resourceMetadata(config: MetadataConfig): ResourceMetadata {
  return {
    // The identifier the authenticator checks `aud` against (--jwt-audience, else the hub URL).
    resource: config.jwtAudience ?? `${config.publicUrl}${HUB_PATH}`,
    // The 1.0 type `mercure` is still read in the compat profile; the draft names only its own.
    authorization_details_types_supported: config.mercureProfile === 'draft' ? [MERCURE_DETAIL_TYPE] : [MERCURE_DETAIL_TYPE, 'mercure'],
    // Only RFC 6750's header method: a URL must not carry an access token (0.x query tokens are no advertised method).
    bearer_methods_supported: ['header'],
    mercure_cookie: DRAFT_COOKIE_NAME,
    mercure_matcher_types_supported: MATCHER_TYPE_NAMES,
    ...(config.subscriptions ? { mercure_subscriptions: true as const } : {}),
  };
}

/** Adds `resource_metadata` to a Bearer challenge (RFC 9728 section 5.1); other headers pass unchanged. */
export function withResourceMetadata(headers: Readonly<Record<string, string>>, url: string | undefined): Readonly<Record<string, string>> {
  const challenge = headers['WWW-Authenticate'];
  if (url === undefined || challenge === undefined || !/^Bearer\b/.test(challenge)) return headers;
  const param = `resource_metadata="${url}"`;
  return { ...headers, 'WWW-Authenticate': challenge === 'Bearer' ? `Bearer ${param}` : `${challenge}, ${param}` };
}

export function registerResourceMetadataRoute(app: FastifyInstance, config: MetadataConfig): void {
  const body = JSON.stringify(resourceMetadata(config));
  for (const path of [METADATA_PATH, WELL_KNOWN]) {
    app.get(path, async (_request, reply) => reply.type('application/json').header('Cache-Control', 'public, max-age=300').send(body));
  }
}
