import assert from 'node:assert/strict';
import { callOfOutboundCallId, outboundCallId } from '../src/uac/call-id.js';

const random = (n: number): Uint8Array => new Uint8Array(n).fill(0xab);

describe('uac Call-ID: names the call it belongs to', () => {
  it('round-trips any call id, with a random part first', () => {
    for (const call of ['f5ebeba6b6fc7de55b5b13b5-b1', 'ctl/call 42 é', 'a']) {
      const callId = outboundCallId(call, random);
      assert.match(callId, /^[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
      assert.equal(callOfOutboundCallId(callId), call);
    }
  });

  it('any other Call-ID names no call', () => {
    for (const callId of ['', 'abc@host', '0123456789abcdef.', '0123456789abcdef', '0123456789abcdef.a=b', '0123456789abcde.YQ', 'x123456789abcdef@YQ']) {
      assert.equal(callOfOutboundCallId(callId), undefined, callId);
    }
    // Not the canonical encoding of what it decodes to (trailing bits set): not ours.
    assert.equal(callOfOutboundCallId('0123456789abcdef.YR'), undefined);
    assert.equal(callOfOutboundCallId('0123456789abcdef.YQ'), 'a');
  });
});
