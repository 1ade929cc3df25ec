/**
 * Call controllers for the security suites: the C example controller (libsipnats on libnats,
 * `packages/fs-shim/build/sipnats_controller`) and a small nats.js one. Both answer every offered
 * call with an SDP through a `sip.cmd.call.answer` request.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';

export const ANSWER_SDP = 'v=0\r\no=sec 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

export interface AnsweringController {
  /** sipnats call ids of the offers seen. */
  readonly offers: string[];
  /** Calls that ended. */
  readonly ended: string[];
  /** Commands the ua refused or that failed. */
  readonly failures: string[];
  stop(): void;
}

/** Answers every `offer` on `nc` (queue group `controllers`) with ANSWER_SDP. */
export function startAnsweringController(nc: NatsConnection, prefix = 'sip'): AnsweringController {
  const offers: string[] = [];
  const ended: string[] = [];
  const failures: string[] = [];
  const sub: Subscription = nc.subscribe(`${prefix}.evt.call.*`, { queue: 'controllers' });
  void (async () => {
    for await (const m of sub) {
      const ev = decodeJson(CallEvent, m.data);
      if (!ev.ok) continue;
      if (ev.value.event === 'ended') ended.push(ev.value.call);
      if (ev.value.event !== 'offer') continue;
      offers.push(ev.value.call);
      const call = ev.value.call;
      void nc
        .request(`${prefix}.cmd.call.answer`, JSON.stringify({ v: 1, call, action: 'answer', sdp: ANSWER_SDP }), { timeout: 5000 })
        .then((r) => {
          const reply = decodeJson(CommandReply, r.data);
          if (!reply.ok || !reply.value.ok) failures.push(`answer ${call}: ${Buffer.from(r.data).toString('utf8')}`);
        })
        .catch((err: unknown) => failures.push(`answer ${call}: ${(err as Error).message}`));
    }
  })();
  return { offers, ended, failures, stop: () => sub.unsubscribe() };
}
