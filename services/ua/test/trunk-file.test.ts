import assert from 'node:assert/strict';
import { parseTrunks, TrunkFileError } from '../src/outbound-reg/trunk-file.js';

const trunk = { id: 't1', registrar: 'sip:reg.example.com', aor: 'sip:123@reg.example.com', contact: 'sip:123@198.51.100.1:5060', username: '123', password: 'pw' };

describe('trunks file', () => {
  it('parses trunks with a default expiry and optional realm', () => {
    assert.deepEqual(parseTrunks(JSON.stringify({ trunks: [trunk, { ...trunk, id: 't2', realm: 'r', expires: 120 }] })), [
      { ...trunk, expires: 3600 },
      { ...trunk, id: 't2', realm: 'r', expires: 120 },
    ]);
  });

  it('refuses bad input with the trunk and field named', () => {
    const bad = (doc: unknown, pattern: RegExp): void => {
      assert.throws(() => parseTrunks(JSON.stringify(doc)), (err: unknown) => err instanceof TrunkFileError && err.code === 'UA_TRUNK_FILE' && pattern.test(err.message));
    };
    bad({}, /`trunks` must be an array/);
    bad({ trunks: [{ ...trunk, registrar: 'http://x' }] }, /trunk t1: registrar/);
    bad({ trunks: [{ ...trunk, expires: 0 }] }, /trunk t1: expires/);
    bad({ trunks: [trunk, trunk] }, /id used twice/);
    bad({ trunks: [{ ...trunk, username: 'a\r\nb' }] }, /username/);
    assert.throws(() => parseTrunks('{'), /not JSON/);
  });
});
