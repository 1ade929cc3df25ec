import assert from 'node:assert/strict';
import { decodeJson, encodeJson, FlowEvent, fromBase64, OutMessage, ResponseEnvelope, type FlowRef } from '@sipnats/contracts';
import { parseMessage, type SipRequest } from '@sipnats/sip-codec';
import { UA_ERROR, UaError } from '../src/errors.js';
import { envelope, FLOW, harness, sipText, type Harness } from './app-harness.js';
import { SDP_OFFER } from './app-sip.js';

/** A WebSocket connection of transport instance t2. */
const WS: FlowRef = { instance: 't2', transport: 'ws', local: '127.0.0.1:8080', remote: '127.0.0.1:41234', id: 'ws0-c0ffee-1' };
const WS_OTHER: FlowRef = { ...WS, remote: '127.0.0.1:41235', id: 'ws0-c0ffee-2' };

function registerOn(h: Harness, flow: FlowRef, user: string, contactHost: string, cseq = 1): Promise<void> {
  const raw = sipText([
    'REGISTER sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/WS ${contactHost};branch=z9hG4bK-reg-${user}-${cseq}-${flow.id}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@127.0.0.1>;tag=r${cseq}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: reg-${user}-${contactHost}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@${contactHost};transport=ws>`,
    'Expires: 600',
  ]);
  return h.send({ ...envelope(raw), instance: flow.instance, flow });
}

function inviteTo(user: string, callId: string): Buffer {
  return sipText(
    [
      `INVITE sip:${user}@127.0.0.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv-${callId};rport`,
      'Max-Forwards: 70',
      `From: "Carol" <sip:carol@127.0.0.1>;tag=${callId}-f`,
      `To: <sip:${user}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:carol@127.0.0.1:5070>',
      'Content-Type: application/sdp',
    ],
    SDP_OFFER,
  );
}

function closed(flow: FlowRef, reason: FlowEvent['reason'] = 'peer'): Uint8Array {
  return encodeJson(FlowEvent, { v: 1, event: 'closed', flow: { instance: flow.instance, transport: flow.transport, local: flow.local, remote: flow.remote, id: flow.id }, reason, at: 1 });
}

async function settle(h: Harness): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await h.idle();
    await new Promise((r) => setImmediate(r));
  }
}

/** INVITEs the ua sent (bridge legs), with the subject they went to. */
function legInvites(h: Harness): { subject: string; reply: string | undefined; out: OutMessage; msg: SipRequest }[] {
  return h.messaging.published.flatMap((p) => {
    if (!p.subject.startsWith('sip.out')) return [];
    const r = decodeJson(OutMessage, p.data);
    if (!r.ok || r.value.kind !== 'request') return [];
    let text = Buffer.from(fromBase64(r.value.raw)).toString('latin1');
    if (!text.startsWith('INVITE ')) return [];
    text = text.replace('\r\n', '\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-test\r\n');
    return [{ subject: p.subject, reply: p.reply, out: r.value, msg: parseMessage(Buffer.from(text, 'latin1')) as SipRequest }];
  });
}

async function metric(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  const m = await h.app.ctx.metrics.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

describe('ua app: registrations on a connection that is gone (RFC 5626 flows)', () => {
  it('sip.evt.flow.closed removes every binding on that flow (unregistered, reason), the index entry, and nothing else; a repeat is a no-op', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false' });
    await registerOn(h, WS, 'alice', 'a1.invalid');
    await registerOn(h, WS, 'bob', 'b1.invalid');
    await registerOn(h, WS_OTHER, 'alice', 'a2.invalid');
    assert.deepEqual(h.responses().map((r) => r.msg.status), [200, 200, 200]);
    assert.deepEqual((await h.flows.get(WS))?.value.aors, ['sip:alice@127.0.0.1', 'sip:bob@127.0.0.1']);
    h.regEvents();

    h.messaging.deliver('sip.evt.flow.closed', closed(WS, 'error'));
    await settle(h);
    const evs = h.regEvents();
    assert.deepEqual(
      evs.map((e) => [e.event, e.aor, e.contact, e.expires, e.reason, e.flow?.id]).sort(),
      [
        ['unregistered', 'sip:alice@127.0.0.1', 'sip:alice@a1.invalid;transport=ws', 0, 'flow closed (error)', WS.id],
        ['unregistered', 'sip:bob@127.0.0.1', 'sip:bob@b1.invalid;transport=ws', 0, 'flow closed (error)', WS.id],
      ],
    );
    assert.equal(await h.bindings.get('sip:bob@127.0.0.1'), undefined, 'bob had nothing else: his key is gone');
    assert.deepEqual((await h.bindings.get('sip:alice@127.0.0.1'))?.value.bindings.map((b) => b.flow.id), [WS_OTHER.id], 'alice\'s other connection stays');
    assert.equal(await h.flows.get(WS), undefined, 'the index entry of the closed flow is gone');
    assert.ok(await h.flows.get(WS_OTHER));
    assert.equal(await metric(h, 'sipnats_ua_bindings_removed_total', { reason: 'flow-closed' }), 2);

    h.messaging.deliver('sip.evt.flow.closed', closed(WS));
    await settle(h);
    assert.deepEqual(h.regEvents(), [], 'a repeated (or late) event finds nothing');
  });

  it('ignores UDP flows, flows nobody registered on, and payloads that are not FlowEvents', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false' });
    await registerOn(h, WS, 'alice', 'a1.invalid');
    h.regEvents();
    h.messaging.deliver('sip.evt.flow.closed', closed(FLOW));
    h.messaging.deliver('sip.evt.flow.closed', closed({ ...WS, id: 'ws0-c0ffee-99' }));
    h.messaging.deliver('sip.evt.flow.closed', closed({ ...WS, instance: 't3' }));
    h.messaging.deliver('sip.evt.flow.closed', Buffer.from('{"v":1,"event":"closed"}'));
    h.messaging.deliver('sip.evt.flow.closed', Buffer.from('not json'));
    await settle(h);
    assert.deepEqual(h.regEvents(), []);
    assert.equal((await h.bindings.get('sip:alice@127.0.0.1'))?.value.bindings.length, 1);
    assert.equal(await metric(h, 'sipnats_ua_flow_events_total', { result: 'invalid' }), 2);
    assert.equal(await metric(h, 'sipnats_ua_flow_events_total', { result: 'ignored' }), 1);
  });

  it('a flow index that cannot be read (KV down) fails the event quietly: counted, bindings kept, nothing thrown', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false' });
    await registerOn(h, WS, 'alice', 'a1.invalid');
    h.regEvents();
    h.flows.get = async () => {
      throw new UaError(UA_ERROR.storeUnavailable, 'KV sipnats_flows get: no answer');
    };
    h.messaging.deliver('sip.evt.flow.closed', closed(WS));
    await settle(h);
    assert.deepEqual(h.regEvents(), []);
    assert.equal((await h.bindings.get('sip:alice@127.0.0.1'))?.value.bindings.length, 1);
    assert.equal(await metric(h, 'sipnats_ua_flow_events_total', { result: 'failed' }), 1);
  });

  it('a bridge leg answered 430 Flow Failed: the caller gets 480, that binding is removed (unregistered, flow failed), and the next call is 480 without a leg', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ROUTING: 'bridge' });
    await registerOn(h, WS, 'alice', 'a1.invalid');
    h.responses();
    h.regEvents();

    await h.send(envelope(inviteTo('alice', 'call-430')));
    await settle(h);
    const [leg] = legInvites(h);
    assert.ok(leg !== undefined, 'the registered contact is called');
    assert.equal(leg.subject, 'sip.out.t2', 'through the instance that holds the connection');
    assert.equal(leg.out.flow?.id, WS.id);
    assert.ok(leg.reply !== undefined);
    // What transport t2 answers for a connection it no longer has (a local response: no raw).
    const failed: ResponseEnvelope = { v: 1, instance: 't2', txn: 'none', status: 430, reason: 'Flow Failed', callId: leg.msg.callId, cseq: { seq: leg.msg.cseq.seq, method: 'INVITE' }, error: `flow ${WS.id} is gone` };
    h.messaging.deliver(leg.reply, encodeJson(ResponseEnvelope, failed));
    await settle(h);
    assert.deepEqual(h.responses().filter((r) => r.msg.status >= 200).map((r) => r.msg.status), [480]);
    const evs = h.regEvents();
    assert.deepEqual(evs.map((e) => [e.event, e.contact, e.reason]), [['unregistered', 'sip:alice@a1.invalid;transport=ws', 'flow failed (430)']]);
    assert.equal(await h.bindings.get('sip:alice@127.0.0.1'), undefined);
    assert.equal(await metric(h, 'sipnats_ua_bindings_removed_total', { reason: 'flow-failed' }), 1);

    const before = legInvites(h).length;
    await h.send(envelope(inviteTo('alice', 'call-after')));
    await settle(h);
    assert.equal(legInvites(h).length, before, 'no leg: nothing is registered');
    assert.deepEqual(h.responses().filter((r) => r.msg.status >= 200).map((r) => r.msg.status), [480], 'alice is a known user who is not registered: 480');
  });

  it('a 430 removes only the binding the leg called: the same Contact registered again on a new connection stays', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ROUTING: 'bridge' });
    await registerOn(h, WS, 'alice', 'a1.invalid', 1);
    await h.send(envelope(inviteTo('alice', 'call-moved')));
    await settle(h);
    const [leg] = legInvites(h);
    assert.ok(leg?.reply !== undefined);
    // Meanwhile alice reconnected and registered the same Contact on another connection.
    await registerOn(h, WS_OTHER, 'alice', 'a1.invalid', 2);
    h.regEvents();
    h.messaging.deliver(leg.reply, encodeJson(ResponseEnvelope, { v: 1, instance: 't2', txn: 'none', status: 430, reason: 'Flow Failed', callId: leg.msg.callId, cseq: { seq: 1, method: 'INVITE' } }));
    await settle(h);
    assert.deepEqual(h.regEvents(), []);
    assert.deepEqual((await h.bindings.get('sip:alice@127.0.0.1'))?.value.bindings.map((b) => b.flow.id), [WS_OTHER.id]);
  });

  it('a user with no registration and no credentials here gets 404; a known one 480', async () => {
    const h = harness({ SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_ROUTING: 'bridge' });
    await h.send(envelope(inviteTo('nobody', 'call-nobody')));
    await settle(h);
    await h.send(envelope(inviteTo('alice', 'call-alice')));
    await settle(h);
    assert.deepEqual(h.responses().filter((r) => r.msg.status >= 200).map((r) => `${r.msg.callId} ${r.msg.status}`), ['call-nobody 404', 'call-alice 480']);
  });
});
