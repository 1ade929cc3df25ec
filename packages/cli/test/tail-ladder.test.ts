import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { subjects } from '@sipnats/contracts';
import { decodeRaw } from '../src/tail/raw-record.js';
import type { RawRecord } from '../src/tail/raw-record.js';
import { Ladder } from '../src/tail/ladder.js';
import { CALL, CALL_ID, fixtureHeaders } from './tail-fixture.js';
import type { FixtureMessage } from './tail-fixture.js';

const s = subjects('sip');
const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 0);

function rec(m: FixtureMessage, i: number, text = m.text, instance = 't1'): RawRecord {
  const h = fixtureHeaders(m, T0 + i * 10, instance);
  const r = decodeRaw({ subject: m.direction === 'in' ? s.rawIn(instance) : s.rawOut(instance), data: Buffer.from(text), header: (n) => h[n] }, s, 0);
  if (r === undefined) throw new Error('not raw');
  return r;
}

const GOLDEN = `Call-ID: a84b4c76e66710@pc33.example.com  (14 messages, ended)
                 127.0.0.1:5061           [t1]           127.0.0.1:5062
                        │                   │                   │
                        │   INVITE (udp)    │                   │
03:04:05.000            │──────────────────▶│                   │
                        │ 100 Trying (udp)  │                   │
03:04:05.010            │◀──────────────────│                   │
                        │                   │   INVITE (udp)    │
03:04:05.020            │                   │──────────────────▶│
                        │                   │ 100 Trying (udp)  │
03:04:05.030            │                   │◀──────────────────│
                        │                   │ 180 Ringing (udp) │
03:04:05.040            │                   │◀──────────────────│
                        │ 180 Ringing (udp) │                   │
03:04:05.050            │◀──────────────────│                   │
                        │                   │   200 OK (udp)    │
03:04:05.060            │                   │◀──────────────────│
                        │   200 OK (udp)    │                   │
03:04:05.070            │◀──────────────────│                   │
                        │     ACK (udp)     │                   │
03:04:05.080            │──────────────────▶│                   │
                        │                   │     ACK (udp)     │
03:04:05.090            │                   │──────────────────▶│
                        │     BYE (udp)     │                   │
03:04:05.100            │──────────────────▶│                   │
                        │                   │     BYE (udp)     │
03:04:05.110            │                   │──────────────────▶│
                        │                   │   200 OK (udp)    │
03:04:05.120            │                   │◀──────────────────│
                        │   200 OK (udp)    │                   │
03:04:05.130            │◀──────────────────│                   │
                        │                   │                   │
`;

describe('tail --ladder', () => {
  it('draws a full call across two peers and an instance (INVITE/100/180/200/ACK/BYE/200)', () => {
    const ladder = new Ladder(CALL_ID);
    CALL.forEach((m, i) => assert.equal(ladder.add(rec(m, i)), true));
    assert.equal(ladder.render({ utc: true, full: false }), GOLDEN);
  });

  it('ends on the 2xx to BYE, not before', () => {
    const ladder = new Ladder(CALL_ID);
    CALL.forEach((m, i) => {
      ladder.add(rec(m, i));
      assert.equal(ladder.ended, i >= 12, `after message ${i}`);
    });
  });

  it('ends on a final non-2xx to the INVITE, but not on a 401/407 challenge', () => {
    const invite = CALL[0] as FixtureMessage;
    const reply = (status: string): string => (CALL[4] as FixtureMessage).text.replace('180 Ringing', status);
    const ladder = new Ladder(CALL_ID);
    ladder.add(rec(invite, 0));
    ladder.add(rec(CALL[4] as FixtureMessage, 1, reply('407 Proxy Authentication Required')));
    assert.equal(ladder.ended, false);
    ladder.add(rec(CALL[4] as FixtureMessage, 2, reply('486 Busy Here')));
    assert.equal(ladder.ended, true);
  });

  it('a rejected re-INVITE does not end an established call', () => {
    const ladder = new Ladder(CALL_ID);
    CALL.slice(0, 10).forEach((m, i) => ladder.add(rec(m, i)));
    ladder.add(rec(CALL[4] as FixtureMessage, 11, (CALL[4] as FixtureMessage).text.replace('180 Ringing', '491 Request Pending')));
    assert.equal(ladder.ended, false);
  });

  it('ignores other calls and malformed messages', () => {
    const ladder = new Ladder(CALL_ID);
    const m = CALL[0] as FixtureMessage;
    assert.equal(ladder.add(rec(m, 0, m.text.replaceAll(CALL_ID, 'other-call'))), false);
    assert.equal(ladder.add(rec(m, 0, 'garbage')), false);
    assert.equal(ladder.size, 0);
  });

  it('--full prints each whole message under its arrow', () => {
    const ladder = new Ladder(CALL_ID);
    ladder.add(rec(CALL[0] as FixtureMessage, 0));
    const text = ladder.render({ utc: true, full: true });
    assert.match(text, /──▶│\n {14}INVITE sip:bob@127\.0\.0\.1:5060 SIP\/2\.0\n {14}Via: SIP\/2\.0\/UDP/);
    assert.match(text, / {14}m=audio 49170 RTP\/AVP 0\n/);
  });

  it('keeps a column per instance when two instances carry the call', () => {
    const ladder = new Ladder(CALL_ID);
    ladder.add(rec(CALL[0] as FixtureMessage, 0, undefined, 't1'));
    ladder.add(rec(CALL[2] as FixtureMessage, 1, undefined, 't2'));
    const header = ladder.render({ utc: true, full: false }).split('\n')[1] ?? '';
    assert.deepEqual(header.trim().split(/ +/), ['127.0.0.1:5061', '[t1]', '[t2]', '127.0.0.1:5062']);
  });

  it('is bounded: keeps the latest rows and says how many went', () => {
    const ladder = new Ladder(CALL_ID, { maxRows: 4 });
    CALL.forEach((m, i) => ladder.add(rec(m, i)));
    assert.equal(ladder.size, 4);
    const text = ladder.render({ utc: true, full: false });
    assert.match(text, /\(14 messages, ended\)/);
    assert.match(text, /… 10 earlier messages not shown/);
    assert.equal((text.match(/─▶|◀─/g) ?? []).length, 4);
  });
});
