import assert from 'node:assert/strict';
import { encodeJson, ResponseEnvelope, subjects } from '@sipnats/contracts';
import { ClientTransactions } from '../src/runtime/client-transactions.js';
import { FakeMessaging, FLOW, sipText } from './app-harness.js';

const BYE = sipText(['BYE sip:bob@127.0.0.1:5070 SIP/2.0', 'Max-Forwards: 70', 'From: <sip:alice@x>;tag=a', 'To: <sip:bob@x>;tag=b', 'Call-ID: ct-1', 'CSeq: 7 BYE']);

function setup(timeoutMs = 5000): { messaging: FakeMessaging; clients: ClientTransactions; errors: unknown[] } {
  const messaging = new FakeMessaging();
  const errors: unknown[] = [];
  const clients = new ClientTransactions({ messaging, subjects: subjects('sip'), maxPending: 10, timeoutMs, onError: (e) => errors.push(e) });
  clients.start();
  return { messaging, clients, errors };
}

describe('ClientTransactions: every request with a handler gets a final response', function () {
  it('hands over the transport\'s responses and forgets the request after the final one', function () {
    const { messaging, clients } = setup();
    const got: number[] = [];
    clients.send(FLOW, BYE, (env) => got.push(env.status));
    const reply = messaging.take('sip.out.t1')[0]?.reply;
    assert.ok(reply !== undefined);
    const env = (status: number): Uint8Array => encodeJson(ResponseEnvelope, { v: 1, instance: 't1', txn: 'x', status, reason: 'r', callId: 'ct-1', cseq: { seq: 7, method: 'BYE' } });
    messaging.deliver(reply, env(100));
    messaging.deliver(reply, env(200));
    messaging.deliver(reply, env(200)); // after the final: nobody waits any more
    assert.deepEqual(got, [100, 200]);
    assert.equal(clients.pending, 0);
    clients.stop();
  });

  it('a request to an instance nobody listens for gets a local 503 at once (NATS no responders)', function () {
    const { messaging, clients } = setup();
    messaging.noResponders = true;
    const got: ResponseEnvelope[] = [];
    clients.send(FLOW, BYE, (env) => got.push(env));
    assert.equal(got.length, 1);
    assert.equal(got[0]?.status, 503);
    assert.equal(got[0]?.raw, undefined, 'generated here, not received');
    assert.equal(got[0]?.callId, 'ct-1');
    assert.deepEqual(got[0]?.cseq, { seq: 7, method: 'BYE' });
    assert.match(got[0]?.error ?? '', /no transport listens on sip\.out\.t1/);
    assert.equal(clients.pending, 0);
    clients.stop();
  });

  it('a request that never gets a final response ends in a local 408 with timeout: true', async function () {
    const { messaging, clients } = setup(30);
    const got: ResponseEnvelope[] = [];
    clients.send(FLOW, BYE, (env) => got.push(env));
    const reply = messaging.take('sip.out.t1')[0]?.reply ?? '';
    messaging.deliver(reply, encodeJson(ResponseEnvelope, { v: 1, instance: 't1', txn: 'x', status: 180, reason: 'Ringing', callId: 'ct-1', cseq: { seq: 7, method: 'BYE' } }));
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(got.map((e) => [e.status, e.timeout]), [[180, undefined], [408, true]]);
    assert.equal(clients.pending, 0);
    clients.stop();
  });

  it('a kept request (INVITE) that already had its final response does not get a 408 at the end', async function () {
    const { messaging, clients } = setup(30);
    const got: number[] = [];
    clients.sendVia({ instance: 't1', keepAfterFinal: true }, BYE, (env) => got.push(env.status));
    const reply = messaging.take('sip.out.t1')[0]?.reply ?? '';
    messaging.deliver(reply, encodeJson(ResponseEnvelope, { v: 1, instance: 't1', txn: 'x', status: 200, reason: 'OK', callId: 'ct-1', cseq: { seq: 7, method: 'BYE' } }));
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(got, [200]);
    assert.equal(clients.pending, 0);
    clients.stop();
  });
});
