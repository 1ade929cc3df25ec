import assert from 'node:assert/strict';
import { CONTRACT_ERROR, ContractError } from '../src/errors.js';
import { subjects } from '../src/subjects.js';

describe('contracts: subjects', () => {
  it('builds every subject under the default prefix sip', () => {
    const s = subjects();
    assert.equal(s.prefix, 'sip');
    assert.equal(s.rawIn('t1'), 'sip.raw.in.t1');
    assert.equal(s.rawOut('t1'), 'sip.raw.out.t1');
    assert.equal(s.rawInAll(), 'sip.raw.in.*');
    assert.equal(s.rawOutAll(), 'sip.raw.out.*');
    assert.equal(s.req('INVITE'), 'sip.req.INVITE');
    assert.equal(s.reqAll(), 'sip.req.*');
    assert.equal(s.out('t1'), 'sip.out.t1');
    assert.equal(s.outAny(), 'sip.out');
    assert.equal(s.fwd('t1'), 'sip.fwd.t1');
    assert.equal(s.evtCall('offer'), 'sip.evt.call.offer');
    assert.equal(s.evtCallAll(), 'sip.evt.call.*');
    assert.equal(s.evtReg('registered'), 'sip.evt.reg.registered');
    assert.equal(s.evtRegAll(), 'sip.evt.reg.*');
    assert.equal(s.evtChannel('hangup'), 'sip.evt.channel.hangup');
    assert.equal(s.evtChannelAll(), 'sip.evt.channel.*');
    assert.equal(s.evtFlow('closed'), 'sip.evt.flow.closed');
    assert.equal(s.evtFlowAll(), 'sip.evt.flow.*');
    assert.equal(s.cmdCall('answer'), 'sip.cmd.call.answer');
    assert.equal(s.cmdCallAll(), 'sip.cmd.call.*');
  });

  it('encodes tokens from the wire and from configuration', () => {
    const s = subjects('acme.sip');
    assert.equal(s.req("!interesting-Method0123456789_*+`.%indeed'~"), 'acme.sip.req.%21interesting-Method0123456789_%2A%2B%60%2E%25indeed%27%7E');
    assert.equal(s.out('pod-1.example'), 'acme.sip.out.pod-1%2Eexample');
    assert.equal(s.fwd('a>b'), 'acme.sip.fwd.a%3Eb');
  });

  it('recovers the decoded last token of a subject', () => {
    const s = subjects('p');
    assert.equal(s.lastToken(s.req('a.b'), 'req'), 'a.b');
    assert.equal(s.lastToken(s.cmdCall('hangup'), 'cmdCall'), 'hangup');
    assert.equal(s.lastToken('p.req.a.b', 'req'), undefined);
    assert.equal(s.lastToken('q.req.INVITE', 'req'), undefined);
    assert.equal(s.lastToken('p.req.%zz', 'req'), undefined);
  });

  it('validates the prefix', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', 'a.>', 'x'.repeat(200), 'tab\t']) {
      assert.throws(
        () => subjects(bad),
        (e: unknown) => e instanceof ContractError && e.code === CONTRACT_ERROR.prefix,
        `prefix ${JSON.stringify(bad)}`,
      );
    }
    assert.equal(subjects('a-b.c_d.$x').prefix, 'a-b.c_d.$x');
  });
});
