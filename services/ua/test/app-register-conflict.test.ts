import assert from 'node:assert/strict';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import { handleRegister } from '../src/handlers/register.js';
import type { BindingStore } from '../src/registrar/binding-store.js';
import { FLOW, harness } from './app-harness.js';
import { register } from './app-sip.js';

describe('ua app: REGISTER on a contended AoR', () => {
  it('when other writers keep winning the CAS, REGISTER gets 500 with Retry-After (not a bare 500)', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_RETRY_AFTER: '7' });
    let puts = 0;
    const alwaysLosing: BindingStore = {
      get: async () => undefined,
      put: async () => {
        puts++;
        return false;
      },
      delete: async () => false,
    };
    const req = parseMessage(register({})) as SipRequest;
    await handleRegister({ ...h.app.ctx, bindings: alwaysLosing }, req, { instance: 't1', txn: 'txn-reg', flow: FLOW }, 'tag1');
    assert.ok(puts > 1);
    const [r] = h.responses();
    assert.equal(r?.msg.status, 500);
    assert.equal(r?.out.txn, 'txn-reg');
    assert.equal(r?.msg.getHeader('Retry-After'), '7');
    assert.deepEqual(h.regEvents(), []);
  });
});
