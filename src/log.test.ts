import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from './log.js';

test('token parameters are redacted by their decoded name, in any case and spelling', () => {
  const spellings = ['access_token', 'authorization', '%61ccess_token', 'authorizatio%6E', 'authorizatio%6e', 'ACCESS_TOKEN', 'Authorization', '%2561ccess_token', 'access%5Ftoken', 'access_token%20'];
  for (const name of spellings) {
    assert.equal(redactUrl(`/.well-known/mercure?topic=a&${name}=SECRET&x=1`), `/.well-known/mercure?topic=a&${name}=[redacted]&x=1`, name);
  }
  assert.equal(redactUrl('/p?topic=access_token&data=SECRET'), '/p?topic=access_token&data=SECRET', 'values are not names');
  assert.equal(redactUrl('/p?%zz=1&%61ccess_token=SECRET'), '/p?%zz=1&%61ccess_token=[redacted]', 'a malformed escape elsewhere does not stop it');
  assert.equal(redactUrl('/no-query'), '/no-query');
});
