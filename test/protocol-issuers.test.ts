// Keys bound to issuers (draft 08, Token Validation): with --jwt-issuers-file each
// trusted issuer has its own keys, and a token is verified only with the keys of the
// issuer its `iss` names, never a pooled set: a token signed by one trusted issuer
// cannot pass as another's. Real HTTP, both front doors (POST is a hot route).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { loadConfig } from '../src/config.js';
import { FRONT_DOORS, publish, PUBLISHER_KEY, withHerald } from './support/herald.js';

const DETAIL = 'https://mercure.rocks/authorization-detail';
const APP = 'https://app.example'; // HS256, its own secret
const IDP = 'https://idp.example'; // ES256, a public key
const MAIN = 'https://main.example'; // --jwt-issuer: the options' keys
const APP_SECRET = 'the-app-issuer-secret-that-is-long-enough-0123';

let dir: string;
let file: string;
let idpKey: CryptoKey;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-issuers-'));
  const pair = await generateKeyPair('ES256');
  idpKey = pair.privateKey;
  file = join(dir, 'issuers.json');
  await writeFile(file, JSON.stringify({ [APP]: { alg: 'HS256', key: APP_SECRET }, [IDP]: { alg: 'ES256', key: await exportSPKI(pair.publicKey) } }));
});
after(() => rm(dir, { recursive: true, force: true }));

function token(aud: string, iss: string | undefined, key: CryptoKey | string, alg = 'HS256', typ: string | undefined = 'at+jwt'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { aud, exp: now + 60, iat: now, ...(iss === undefined ? {} : { iss }), authorization_details: [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }] };
  return new SignJWT(claims).setProtectedHeader({ alg, ...(typ === undefined ? {} : { typ }) }).sign(typeof key === 'string' ? new TextEncoder().encode(key) : key);
}

for (const door of FRONT_DOORS) {
  describe(`keys bound to issuers (${door.name})`, () => {
    test('each issuer\'s tokens pass with its own keys only; a key of one issuer cannot sign for another', async () => {
      await withHerald({ jwtIssuersFile: file, jwtIssuer: MAIN, ...door.config }, async (herald) => {
        const aud = `${herald.hub.url}/.well-known/mercure`;
        const status = async (t: string) => (await publish(herald.url, { topic: 'https://example.com/iss' }, t)).status;
        assert.equal(await status(await token(aud, APP, APP_SECRET)), 200, 'app issuer, app key');
        assert.equal(await status(await token(aud, IDP, idpKey, 'ES256')), 200, 'identity provider, its key');
        assert.equal(await status(await token(aud, MAIN, PUBLISHER_KEY)), 200, '--jwt-issuer with the options\' key');
        for (const [what, t] of [
          ['app iss signed with the options\' key', await token(aud, APP, PUBLISHER_KEY)],
          ['main iss signed with the app key', await token(aud, MAIN, APP_SECRET)],
          ['idp iss signed with the app key (HS256)', await token(aud, IDP, APP_SECRET)],
          ['app iss signed with the idp key (ES256)', await token(aud, APP, idpKey, 'ES256')],
          ['an issuer nobody trusts', await token(aud, 'https://evil.example', PUBLISHER_KEY)],
          ['a 0.x token naming the app issuer, signed with the options\' key', await token(aud, APP, PUBLISHER_KEY, 'HS256', undefined)],
        ] as const) {
          const refused = await publish(herald.url, { topic: 'https://example.com/iss' }, t);
          assert.equal(refused.status, 401, what);
          assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/, what);
        }
      });
    });
  });
}

describe('keys bound to issuers: the draft profile and the configuration', () => {
  test('--mercure-profile draft with only --jwt-issuers-file: the options\' keys verify nothing', async () => {
    await withHerald({ jwtIssuersFile: file, mercureProfile: 'draft' }, async (herald) => {
      const aud = `${herald.hub.url}/.well-known/mercure`;
      assert.equal((await publish(herald.url, { topic: 'x' }, await token(aud, APP, APP_SECRET))).status, 200);
      assert.equal((await publish(herald.url, { topic: 'x' }, await token(aud, 'https://any.example', PUBLISHER_KEY))).status, 401);
      assert.equal((await publish(herald.url, { topic: 'x' }, await token(aud, undefined, PUBLISHER_KEY))).status, 401, 'no iss');
    });
    assert.equal(loadConfig(['--mercure-profile', 'draft', '--jwt-issuers-file', file, '--no-chat'], {}).jwtIssuersFile, file);
  });
});
