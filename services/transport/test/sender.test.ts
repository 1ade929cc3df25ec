import assert from 'node:assert/strict';
import { isResponse, methodLabelOf, statusClassOf, traceStartLine } from '../src/sender.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('sender: start lines', function () {
  it('reads the method label of a request and the status class of a response from the bytes', function () {
    const invite = bytes('INVITE sip:bob@x SIP/2.0\r\nVia: x\r\n');
    assert.equal(isResponse(invite), false);
    assert.equal(methodLabelOf(invite), 'INVITE');
    assert.equal(methodLabelOf(bytes('FOO sip:bob@x SIP/2.0\r\n')), 'other');
    const busy = bytes('SIP/2.0 486 Busy Here\r\n');
    assert.equal(isResponse(busy), true);
    assert.equal(statusClassOf(busy), '4xx');
  });

  it('a trace line is the start line only, bounded, with a userinfo password masked', function () {
    assert.equal(traceStartLine(bytes('REGISTER sip:alice:s3cret@example.com SIP/2.0\r\nAuthorization: Digest response="x"\r\n')), 'REGISTER sip:alice:***@example.com SIP/2.0');
    assert.equal(traceStartLine(bytes('INVITE sips:bob@example.com;transport=tls SIP/2.0\r\n')), 'INVITE sips:bob@example.com;transport=tls SIP/2.0');
    assert.equal(traceStartLine(bytes(`OPTIONS sip:${'a'.repeat(1000)}@x SIP/2.0\r\n`)).length, 256);
    assert.equal(traceStartLine(bytes('BYE \x00\x1b[31m sip:x SIP/2.0\r\n')), 'BYE ??[31m sip:x SIP/2.0');
  });
});
