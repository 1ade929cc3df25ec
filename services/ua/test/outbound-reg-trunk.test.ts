import assert from 'node:assert/strict';
import { credentialsFromPassword, StaticCredentialStore } from '../src/auth/credential-store.js';
import { DigestAuthenticator } from '../src/auth/digest-server.js';
import { NonceService } from '../src/auth/nonce.js';
import { MemoryNonceCountStore } from '../src/auth/nonce-count-store.js';
import {
  createRegistration,
  handleRegLocalFinal,
  handleRegResponse,
  handleRegTimer,
  refreshDelayMs,
  startRegistration,
  unregister,
} from '../src/outbound-reg/registration.js';
import type { OutboundRegConfig, RegistrationRecord, RegRequest, RegTransition, TrunkConfig } from '../src/outbound-reg/types.js';
import { authValue, FakeClock, seededRandom } from './support/fakes.js';
import { header, response } from './support/sip.js';

const realm = 'trunk.test';
const trunk: TrunkConfig = {
  id: 't1',
  registrar: 'sip:trunk.test',
  aor: 'sip:1000@trunk.test',
  contact: 'sip:1000@127.0.0.1:5060',
  username: '1000',
  password: 'pw',
  expires: 600,
};
const config: OutboundRegConfig = { refreshMarginSeconds: 30, retryMinMs: 1000, retryMaxMs: 8000 };

function setup(t: TrunkConfig = trunk) {
  const clock = new FakeClock();
  const random = seededRandom('reg');
  const server = new DigestAuthenticator({
    realm,
    nonces: new NonceService({ secret: Buffer.alloc(32, 5), random: seededRandom('rn'), lifetimeMs: 300_000 }),
    counts: new MemoryNonceCountStore({ maxEntries: 100, ttlMs: 300_000, clock: clock.read }),
    credentials: new StaticCredentialStore([credentialsFromPassword('1000', realm, 'pw')]),
  });
  const state = { record: createRegistration(t, { now: clock.now, random }) as RegistrationRecord };
  const apply = (tr: RegTransition): RegTransition => {
    state.record = tr.record;
    return tr;
  };
  const answer = (req: RegRequest, status: number, lines: string[] = []): RegTransition =>
    apply(
      handleRegResponse(
        config,
        t,
        state.record,
        response([
          `SIP/2.0 ${status} X`,
          'Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr',
          `From: ${header(req.headers, 'From')}`,
          `To: ${header(req.headers, 'To')};tag=srv`,
          `Call-ID: ${header(req.headers, 'Call-ID')}`,
          `CSeq: ${header(req.headers, 'CSeq')}`,
          ...lines,
        ]),
        { now: clock.now, random },
      ),
    );
  const challenge = (): string[] => server.challenge(clock.now).headers.map(([n, v]) => `${n}: ${v}`);
  return { clock, random, server, state, apply, answer, challenge };
}

describe('outbound-reg: REGISTER to a trunk (RFC 3261 §10.2)', () => {
  it('challenge → 200 → refresh scheduled → refresh on the same Call-ID with a higher CSeq', async () => {
    const s = setup();
    const first = s.apply(startRegistration(config, trunk, s.state.record, s.clock.now)).requests[0];
    assert.ok(first);
    assert.equal(first.method, 'REGISTER');
    assert.equal(first.requestUri, 'sip:trunk.test');
    assert.equal(header(first.headers, 'CSeq'), '1 REGISTER');
    assert.equal(header(first.headers, 'Expires'), '600');
    assert.equal(header(first.headers, 'Contact'), '<sip:1000@127.0.0.1:5060>');
    const challenged = s.answer(first, 401, s.challenge());
    const second = challenged.requests[0];
    assert.ok(second);
    assert.equal(header(second.headers, 'CSeq'), '2 REGISTER');
    assert.equal(header(second.headers, 'Call-ID'), header(first.headers, 'Call-ID'));
    const credentials = header(second.headers, 'Authorization');
    assert.ok(credentials);
    const verdict = await s.server.verify({ method: 'REGISTER', requestUri: second.requestUri, credentials: [authValue(credentials)], now: s.clock.now });
    assert.equal(verdict.kind, 'ok');
    const ok = s.answer(second, 200, ['Contact: <sip:1000@127.0.0.1:5060>;expires=300', 'Expires: 900']);
    assert.deepEqual(ok.events, [{ event: 'registered', aor: trunk.aor, contact: trunk.contact, expires: 300 }]);
    assert.deepEqual(ok.timers, [{ name: 'reg-refresh', at: s.clock.now + 270_000 }]);
    assert.equal(s.state.record.phase, 'registered');

    s.clock.advance(270_000);
    const refresh = s.apply(handleRegTimer(config, trunk, s.state.record, 'reg-refresh', s.clock.now)).requests[0];
    assert.ok(refresh);
    assert.equal(header(refresh.headers, 'CSeq'), '3 REGISTER');
    assert.equal(header(refresh.headers, 'Call-ID'), header(first.headers, 'Call-ID'));
    const again = s.answer(refresh, 200, ['Expires: 120']);
    assert.equal(again.events[0]?.event, 'refreshed');
    assert.equal(again.events[0]?.expires, 120);
    assert.deepEqual(again.timers, [{ name: 'reg-refresh', at: s.clock.now + 90_000 }]);
  });

  it('refresh timing: max(expires / 2, expires − margin)', () => {
    assert.equal(refreshDelayMs(3600, config), 3_570_000);
    assert.equal(refreshDelayMs(60, config), 30_000);
    assert.equal(refreshDelayMs(20, config), 10_000);
  });

  it('423 → REGISTER again with the Min-Expires value', () => {
    const s = setup();
    const first = s.apply(startRegistration(config, trunk, s.state.record, s.clock.now)).requests[0];
    assert.ok(first);
    const retry = s.answer(first, 423, ['Min-Expires: 1800']).requests[0];
    assert.ok(retry);
    assert.equal(header(retry.headers, 'Expires'), '1800');
    assert.equal(header(retry.headers, 'CSeq'), '2 REGISTER');
    const ok = s.answer(retry, 200, ['Contact: <sip:1000@127.0.0.1:5060>;expires=1800']);
    assert.equal(ok.events[0]?.expires, 1800);
    const stuck = setup();
    const r = stuck.apply(startRegistration(config, trunk, stuck.state.record, stuck.clock.now)).requests[0];
    assert.ok(r);
    assert.equal(stuck.answer(r, 423, ['Min-Expires: 60']).events[0]?.event, 'failed', 'a Min-Expires not above ours cannot help');
  });

  it('403 → failed and a retry with exponential backoff (capped)', () => {
    const s = setup();
    let req = s.apply(startRegistration(config, trunk, s.state.record, s.clock.now)).requests[0];
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.ok(req);
      const t = s.answer(req, 403);
      assert.deepEqual(t.requests, []);
      assert.equal(t.events[0]?.event, 'failed');
      assert.match(t.events[0]?.reason ?? '', /^403/);
      const retry = t.timers.find((x) => x.name === 'reg-retry');
      assert.ok(retry);
      delays.push(retry.at - s.clock.now);
      s.clock.advance(retry.at - s.clock.now);
      req = s.apply(handleRegTimer(config, trunk, s.state.record, 'reg-retry', s.clock.now)).requests[0];
    }
    const bases = [1000, 2000, 4000, 8000, 8000];
    delays.forEach((d, i) => assert.ok(d >= (bases[i] ?? 0) / 2 && d <= (bases[i] ?? 0), `retry ${i + 1}: ${d} ms within ${bases[i]} / 2..${bases[i]}`));
  });

  it('wrong credentials: the second challenge fails the attempt, no REGISTER loop', () => {
    const s = setup({ ...trunk, password: 'wrong' });
    const first = s.apply(startRegistration(config, trunk, s.state.record, s.clock.now)).requests[0];
    assert.ok(first);
    const second = s.answer(first, 401, s.challenge()).requests[0];
    assert.ok(second);
    const t = s.answer(second, 401, s.challenge());
    assert.deepEqual(t.requests, []);
    assert.equal(t.events[0]?.event, 'failed');
    assert.match(t.events[0]?.reason ?? '', /credentials rejected/);
    assert.equal(s.state.record.phase, 'failed');
    assert.ok(t.timers.some((x) => x.name === 'reg-retry' && x.at > s.clock.now));
  });

  it('a transport timeout fails the attempt; unregister sends Expires: 0 then reports unregistered', () => {
    const s = setup();
    const first = s.apply(startRegistration(config, trunk, s.state.record, s.clock.now)).requests[0];
    assert.ok(first);
    const t = s.apply(handleRegLocalFinal(config, trunk, s.state.record, { txnRef: first.txnRef, status: 408, reason: 'Request Timeout' }, { now: s.clock.now, random: s.random }));
    assert.equal(t.events[0]?.event, 'failed');

    const u = setup();
    const r = u.apply(startRegistration(config, trunk, u.state.record, u.clock.now)).requests[0];
    assert.ok(r);
    u.answer(r, 200, ['Expires: 600']);
    const bye = u.apply(unregister(config, trunk, u.state.record, u.clock.now));
    assert.deepEqual(bye.cancelTimers, ['reg-refresh', 'reg-retry']);
    const req = bye.requests[0];
    assert.ok(req);
    assert.equal(header(req.headers, 'Expires'), '0');
    const done = u.answer(req, 200);
    assert.deepEqual(done.events, [{ event: 'unregistered', aor: trunk.aor, contact: trunk.contact, expires: 0 }]);
    assert.equal(u.state.record.phase, 'stopped');
    assert.equal(unregister(config, trunk, u.state.record, u.clock.now).requests.length, 0, 'nothing to remove when not bound');
  });
});
