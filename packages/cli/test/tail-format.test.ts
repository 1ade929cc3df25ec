import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { subjects, isValid, describeErrors } from '@sipnats/contracts';
import { decodeRaw } from '../src/tail/raw-record.js';
import type { RawRecord } from '../src/tail/raw-record.js';
import { formatClock, formatFull, formatLine, terminalSafe } from '../src/tail/format-line.js';
import { matchesFilter, parseStatusPattern, splitValues, FilterError } from '../src/tail/filter.js';
import { TailJsonLine, toJsonLine } from '../src/tail/json-line.js';
import { ALICE, BOB, CALL, CALL_ID, fixtureHeaders } from './tail-fixture.js';

const s = subjects('sip');
const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function record(i: number, over: { headers?: Record<string, string | undefined>; data?: string; subject?: string } = {}): RawRecord {
  const m = CALL[i];
  if (m === undefined) throw new Error(`no fixture message ${i}`);
  const headers: Record<string, string | undefined> = { ...fixtureHeaders(m, T0 + i), ...over.headers };
  const r = decodeRaw(
    {
      subject: over.subject ?? (m.direction === 'in' ? s.rawIn('t1') : s.rawOut('t1')),
      data: Buffer.from(over.data ?? m.text),
      header: (n) => headers[n],
    },
    s,
    999,
  );
  if (r === undefined) throw new Error('not a raw subject');
  return r;
}

const all = CALL.map((_, i) => record(i));

describe('tail: decoding raw messages', () => {
  it('takes direction from the subject and metadata from the Sipnats-* headers', () => {
    const r = record(0);
    assert.equal(r.direction, 'in');
    assert.equal(r.instance, 't1');
    assert.equal(r.transport, 'udp');
    assert.deepEqual(r.remote, { ip: '127.0.0.1', port: 5061, family: 4 });
    assert.equal(r.time, T0);
    assert.ok(r.outcome.ok);
    assert.equal(r.outcome.sip.callId, CALL_ID);
    assert.equal(r.outcome.sip.fromUser, 'alice');
    assert.equal(r.outcome.sip.toUser, 'bob');
  });

  it('falls back to the subject token for the instance and to the receipt time for the time', () => {
    const r = record(1, { headers: { 'Sipnats-Instance': undefined, 'Sipnats-Time': 'soon' }, subject: s.rawOut('edge.2') });
    assert.equal(r.instance, 'edge.2');
    assert.equal(r.time, 999);
  });

  it('keeps bad metadata as unknown instead of failing', () => {
    const r = record(0, { headers: { 'Sipnats-Remote': '1.2.3.4', 'Sipnats-Transport': 'carrier-pigeon', 'Sipnats-Local': '[::1]:99999' } });
    assert.equal(r.remote, undefined);
    assert.equal(r.local, undefined);
    assert.equal(r.transport, undefined);
  });

  it('parses [v6]:port addresses', () => {
    const r = record(0, { headers: { 'Sipnats-Remote': '[2001:db8::1]:5070' } });
    assert.deepEqual(r.remote, { ip: '2001:db8::1', port: 5070, family: 6 });
  });

  it('ignores subjects that are not raw subjects of the prefix', () => {
    assert.equal(decodeRaw({ subject: 'other.raw.in.t1', data: new Uint8Array(), header: () => undefined }, s, 0), undefined);
  });
});

describe('tail: one line per message', () => {
  it('prints time, instance, direction, transport, remote, method, Call-ID and CSeq', () => {
    assert.equal(
      formatLine(all[0] as RawRecord, { color: false, utc: true }),
      `03:04:05.678  t1        → udp  ${ALICE.padEnd(21)}  ${'INVITE'.padEnd(18)}  ${CALL_ID}  314159 INVITE`,
    );
    assert.equal(
      formatLine(all[4] as RawRecord, { color: false, utc: true }),
      `03:04:05.682  t1        → udp  ${BOB.padEnd(21)}  ${'180 Ringing'.padEnd(18)}  ${CALL_ID}  314159 INVITE`,
    );
    assert.match(formatLine(all[1] as RawRecord, { color: false, utc: true }), /^03:04:05\.679 {2}t1 {8}← udp {2}127\.0\.0\.1:5061 +100 Trying +a84b/);
  });

  it('colors by direction only when asked', () => {
    assert.ok(formatLine(all[0] as RawRecord, { color: true, utc: true }).startsWith('\x1b[36m'));
    assert.ok(formatLine(all[1] as RawRecord, { color: true, utc: true }).startsWith('\x1b[33m'));
    assert.ok(!formatLine(all[1] as RawRecord, { color: false, utc: true }).includes('\x1b'));
  });

  it('shows a malformed message as such, with the parse error and its size', () => {
    const r = record(0, { data: 'INVITE sip:bob@x SIP/2.0\r\nVia: nonsense\r\n\r\n' });
    assert.equal(r.outcome.ok, false);
    const line = formatLine(r, { color: false, utc: true });
    assert.match(line, /→ udp {2}127\.0\.0\.1:5061 +MALFORMED \(SIP_ERR_[A-Z_]+: .*\) 43 bytes$/);
    assert.ok(formatLine(r, { color: true, utc: true }).startsWith('\x1b[31m'));
  });

  it('never passes terminal control characters through', () => {
    assert.equal(terminalSafe('a\x1b[2Jb\x07'), 'a\\x1b[2Jb\\x07');
    const r = record(0, { data: 'garbage\x1b[2J\r\n' });
    assert.ok(!formatLine(r, { color: false, utc: true }).includes('\x1b'));
    assert.ok(!formatFull(r).includes('\x1b'));
  });

  it('--full prints the whole message, indented, one line per SIP line', () => {
    const full = formatFull(all[0] as RawRecord, '> ');
    const lines = full.split('\n');
    assert.equal(lines[0], '> INVITE sip:bob@127.0.0.1:5060 SIP/2.0');
    assert.ok(lines.includes('> m=audio 49170 RTP/AVP 0'));
    assert.ok(!full.includes('\r'));
  });

  it('formats local times as HH:MM:SS.mmm', () => {
    assert.match(formatClock(T0, false), /^\d{2}:\d{2}:05\.678$/);
  });
});

describe('tail: filters', () => {
  const pick = (f: Parameters<typeof matchesFilter>[1]): number[] => all.flatMap((r, i) => (matchesFilter(r, f) ? [i] : []));

  it('an empty filter passes everything', () => {
    assert.equal(pick({}).length, CALL.length);
  });

  it('--method matches requests and the responses to them (CSeq method), case-insensitively', () => {
    assert.deepEqual(pick({ methods: ['bye'] }), [10, 11, 12, 13]);
    assert.deepEqual(pick({ methods: ['ACK', 'BYE'] }), [8, 9, 10, 11, 12, 13]);
  });

  it('--status matches codes and classes, responses only', () => {
    assert.deepEqual(pick({ statuses: [parseStatusPattern('180')] }), [4, 5]);
    assert.deepEqual(pick({ statuses: [parseStatusPattern('2xx')] }), [6, 7, 12, 13]);
    assert.deepEqual(pick({ statuses: [parseStatusPattern('1XX')] }), [1, 3, 4, 5]);
    assert.deepEqual(pick({ statuses: [parseStatusPattern('4xx')] }), []);
    assert.throws(() => parseStatusPattern('99'), FilterError);
    assert.throws(() => parseStatusPattern('7xx'), FilterError);
  });

  it('--user matches the From or To user, --call-id and --instance exactly', () => {
    assert.equal(pick({ users: ['bob'] }).length, CALL.length);
    assert.equal(pick({ users: ['alice'] }).length, CALL.length);
    assert.deepEqual(pick({ users: ['carol'] }), []);
    assert.equal(pick({ callIds: [CALL_ID] }).length, CALL.length);
    assert.deepEqual(pick({ callIds: ['other'] }), []);
    assert.equal(pick({ instances: ['t1'] }).length, CALL.length);
    assert.deepEqual(pick({ instances: ['t2'] }), []);
  });

  it('different options combine with AND', () => {
    assert.deepEqual(pick({ methods: ['INVITE'], statuses: [parseStatusPattern('2xx')] }), [6, 7]);
    assert.deepEqual(pick({ methods: ['INVITE'], statuses: [parseStatusPattern('2xx')], instances: ['t2'] }), []);
  });

  it('a SIP field filter never matches a malformed message; --instance alone does', () => {
    const bad = record(0, { data: 'not sip' });
    assert.equal(matchesFilter(bad, { methods: ['INVITE'] }), false);
    assert.equal(matchesFilter(bad, { instances: ['t1'] }), true);
  });

  it('splits comma lists and repeated options', () => {
    assert.deepEqual(splitValues(['INVITE,BYE', ' ACK ', '']), ['INVITE', 'BYE', 'ACK']);
  });
});

describe('tail: --json lines', () => {
  it('every message of a call gives a line valid against TailJsonLine', () => {
    for (const r of all) {
      const line = JSON.parse(JSON.stringify(toJsonLine(r, true))) as unknown;
      assert.ok(isValid(TailJsonLine, line), describeErrors(TailJsonLine, line).join('; '));
    }
  });

  it('carries direction, addresses, SIP fields, and the raw text only with --full', () => {
    const line = toJsonLine(all[6] as RawRecord, false);
    assert.deepEqual(
      { ...line },
      {
        v: 1,
        time: '2024-01-02T03:04:05.684Z',
        ts: T0 + 6,
        subject: 'sip.raw.in.t1',
        direction: 'in',
        instance: 't1',
        transport: 'udp',
        local: '127.0.0.1:5060',
        remote: BOB,
        flow: `udp:127.0.0.1:5060/${BOB}`,
        size: Buffer.byteLength(CALL[6]?.text ?? ''),
        ok: true,
        kind: 'response',
        status: 200,
        reason: 'OK',
        callId: CALL_ID,
        cseq: { seq: 314159, method: 'INVITE' },
        fromUser: 'alice',
        toUser: 'bob',
        fromTag: '1928301774',
        toTag: 'a6c85cf',
      },
    );
    assert.equal(toJsonLine(all[0] as RawRecord, true).raw, CALL[0]?.text);
  });

  it('a malformed message gives ok:false with the error, still valid', () => {
    const line = toJsonLine(record(0, { data: '\x00\x01junk', headers: { 'Sipnats-Remote': undefined, 'Sipnats-Transport': undefined } }), true);
    assert.equal(line.ok, false);
    assert.equal(line.remote, null);
    assert.equal(line.transport, null);
    assert.ok(line.error?.code.startsWith('SIP_ERR_'));
    assert.ok(isValid(TailJsonLine, JSON.parse(JSON.stringify(line))));
  });

  it('the schema rejects extra properties and wrong types', () => {
    const line = { ...toJsonLine(all[0] as RawRecord, false) } as Record<string, unknown>;
    assert.equal(isValid(TailJsonLine, { ...line, extra: 1 }), false);
    assert.equal(isValid(TailJsonLine, { ...line, direction: 'sideways' }), false);
    assert.equal(isValid(TailJsonLine, { ...line, status: 42 }), false);
  });
});
