import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseMessage } from '../src/index.js';
import { corpusFile } from './corpus.js';

const require = createRequire(import.meta.url);
const sip = require('sip') as { parse(s: string): SipJs | undefined };
interface SipJs {
  method?: string;
  uri?: string;
  status?: number;
  headers: { 'call-id'?: string; cseq?: { seq: number; method: string } };
}

/** Valid corpus messages npm sip@0.0.6 also reads (it gives up on folding-heavy ones). */
const FILES = ['esc01.dat', 'escnull.dat', 'lwsdisp.dat', 'dblreq.dat', 'semiuri.dat', 'transports.dat', 'unreason.dat', 'noreason.dat', 'unkscm.dat', 'novelsc.dat', 'bext01.dat', 'invut.dat', 'regaut01.dat', 'bcast.dat', 'zeromf.dat', 'cparam01.dat', 'cparam02.dat', 'regescrt.dat', 'sdp01.dat', 'inv2543.dat', 'mpart01.dat', 'longreq.dat'];

describe('sip-codec: differential against npm sip 0.0.6', () => {
  for (const file of FILES) {
    it(`${file}: same method/uri/status, Call-ID and CSeq`, () => {
      const bytes = corpusFile('rfc4475', file);
      const theirs = sip.parse(bytes.toString('binary'));
      assert.ok(theirs, 'npm sip parses it');
      const ours = parseMessage(bytes);
      if (ours.kind === 'request') {
        assert.equal(ours.method, theirs.method);
        assert.equal(ours.uri, theirs.uri);
      } else assert.equal(ours.status, theirs.status);
      assert.equal(ours.callId, theirs.headers['call-id']);
      assert.deepEqual([ours.cseq.seq, ours.cseq.method], [theirs.headers.cseq?.seq, theirs.headers.cseq?.method]);
    });
  }
});
