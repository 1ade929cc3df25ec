import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, REDACT_CENSOR } from '../src/logger.js';
import { redactSipText } from '../src/redact-sip.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logging: createLogger', () => {
  it('writes JSON lines with name, instance, level label and message', () => {
    const out = capture();
    const log = createLogger({ name: 'transport', level: 'info', instance: 't1', destination: out.stream });
    log.info({ callId: 'abc' }, 'hello');
    log.debug('not shown');
    const [line, ...rest] = out.lines();
    assert.equal(rest.length, 0);
    assert.equal(line?.['name'], 'transport');
    assert.equal(line?.['instance'], 't1');
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['msg'], 'hello');
    assert.equal(line?.['callId'], 'abc');
    assert.equal(typeof line?.['time'], 'string');
  });

  it('redacts credentials at the top level, nested, and in header maps', () => {
    const out = capture();
    const log = createLogger({ name: 't', level: 'trace', destination: out.stream });
    log.info(
      {
        password: 'p0',
        authorization: 'Digest x',
        nats: { password: 'p1', token: 't1', user: 'alice' },
        req: { headers: { authorization: 'Basic y', 'proxy-authorization': 'Digest z', accept: 'a' } },
        headers: { Authorization: 'Digest q' },
        cmd: { credentials: { username: 'u', password: 'p2' } },
        deep: { a: { b: { secret: 's3' } } },
      },
      'with secrets',
    );
    const child = log.child({ callId: 'c' });
    child.warn({ proxyAuthorization: 'Digest w', config: { nats: { password: 'p4' } } }, 'child');
    const text = out.lines().map((l) => JSON.stringify(l)).join('\n');
    for (const secret of ['p0', 'Digest x', 'p1', 't1', 'Basic y', 'Digest z', 'Digest q', 'p2', 's3', 'Digest w', 'p4']) {
      assert.ok(!text.includes(`"${secret}"`), `${secret} leaked: ${text}`);
    }
    const [first, second] = out.lines();
    assert.equal((first?.['nats'] as Record<string, unknown>)['user'], 'alice');
    assert.equal((first?.['nats'] as Record<string, unknown>)['password'], REDACT_CENSOR);
    assert.equal(((first?.['req'] as Record<string, Record<string, unknown>>)['headers'] ?? {})['accept'], 'a');
    assert.equal(second?.['proxyAuthorization'], REDACT_CENSOR);
  });

  it('keeps one root logger per call (no shared global state)', () => {
    const a = capture();
    const b = capture();
    const la = createLogger({ name: 'a', level: 'error', destination: a.stream });
    const lb = createLogger({ name: 'b', level: 'info', destination: b.stream });
    la.info('hidden');
    lb.info('shown');
    assert.equal(a.lines().length, 0);
    assert.equal(b.lines().length, 1);
  });
});

describe('logging: redactSipText', () => {
  const register = [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1',
    'Authorization: Digest username="alice", realm="example.com", nonce="n", response="secretresponse"',
    'proxy-authorization :Digest username="alice",',
    ' response="foldedsecret"',
    '\tnc=00000001',
    'Contact: <sip:alice@10.0.0.1>',
    'Content-Length: 28',
    '',
    'Authorization: not a header',
  ];

  it('masks Authorization and Proxy-Authorization values, including folded lines, not the body', () => {
    for (const eol of ['\r\n', '\n']) {
      const out = redactSipText(register.join(eol));
      assert.ok(!out.includes('secretresponse'));
      assert.ok(!out.includes('foldedsecret'));
      assert.ok(!out.includes('nc=00000001'));
      const lines = out.split(eol);
      assert.equal(lines[2], 'Authorization: Digest [redacted]');
      assert.equal(lines[3], 'proxy-authorization : Digest [redacted]');
      assert.equal(lines[4], ' [redacted]');
      assert.equal(lines[6], 'Contact: <sip:alice@10.0.0.1>');
      assert.equal(lines[9], 'Authorization: not a header', 'body untouched');
      assert.equal(lines.length, register.length);
    }
  });

  it('returns text without credentials unchanged', () => {
    const invite = 'INVITE sip:bob@b SIP/2.0\r\nWWW-Authenticate: Digest realm="x"\r\n\r\n';
    assert.equal(redactSipText(invite), invite);
  });

  it('masks credentials after leading line ends too (RFC 3261 §7.5 lets a message start with CRLFs)', () => {
    for (const lead of ['\r\n', '\r\n\r\n', '\n']) {
      const text = `${lead}${register.join('\r\n')}`;
      const out = redactSipText(text);
      assert.ok(!out.includes('secretresponse'), JSON.stringify(lead));
      assert.ok(!out.includes('foldedsecret'), JSON.stringify(lead));
      assert.ok(out.startsWith(`${lead}REGISTER sip:example.com SIP/2.0\r\n`));
      assert.ok(out.endsWith('\r\n\r\nAuthorization: not a header'), 'body untouched');
    }
  });
});
