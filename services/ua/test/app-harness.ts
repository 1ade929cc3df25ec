/** Fakes for unit tests of build(): messaging that records publishes, envelopes from SIP text. */
import { loadConfig } from '@sipnats/config';
import { CallEvent, CommandReply, decodeJson, encodeJson, fromBase64, OutMessage, RegEvent, RequestEnvelope, toBase64, type FlowRef } from '@sipnats/contracts';
import { createLogger } from '@sipnats/logging';
import { parseMessage, type SipResponse } from '@sipnats/sip-codec';
import { Registry } from 'prom-client';
import { build, type UaApp } from '../src/app.js';
import { credentialsFromPassword, StaticCredentialStore } from '../src/auth/credential-store.js';
import { MemoryNonceCountStore } from '../src/auth/nonce-count-store.js';
import { uaSettings } from '../src/config.js';
import { createUaMetrics } from '../src/ops/metrics.js';
import { MemoryBindingStore } from '../src/registrar/binding-store.js';
import { MemoryFlowIndexStore } from '../src/registrar/flow-index.js';
import type { InMessage, Messaging } from '../src/runtime/messaging.js';
import { MemoryCallStore } from '../src/store/call-store.js';
import { MemoryUacStore } from '../src/store/uac-store.js';
import { FakeClock, seededRandom } from './support/fakes.js';

export interface Published {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reply: string | undefined;
}

function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export class FakeMessaging implements Messaging {
  readonly published: Published[] = [];
  readonly subs: { subject: string; handler: (m: InMessage) => void; active: boolean }[] = [];
  up = true;
  /** Answer a request nobody subscribes to with the server's no-responders status, as NATS does. */
  noResponders = false;

  publish(subject: string, data: Uint8Array, reply?: string): void {
    this.published.push({ subject, data, reply });
    let heard = false;
    for (const s of this.subs) {
      if (s.active && matches(s.subject, subject)) {
        heard = true;
        s.handler({ subject, data, reply });
      }
    }
    if (!heard && reply !== undefined && this.noResponders) this.deliver(reply, new Uint8Array(0), undefined, true);
  }

  subscribe(subject: string, _queue: string | undefined, handler: (m: InMessage) => void) {
    const sub = { subject, handler, active: true };
    this.subs.push(sub);
    return {
      unsubscribe: () => {
        sub.active = false;
      },
      drain: async () => {
        sub.active = false;
      },
    };
  }

  inboxPrefix(): string {
    return '_INBOX.test';
  }

  connected(): boolean {
    return this.up;
  }

  /** Delivers a message as if NATS did. */
  deliver(subject: string, data: Uint8Array, reply?: string, noResponders = false): void {
    for (const s of this.subs) if (s.active && matches(s.subject, subject)) s.handler({ subject, data, reply, ...(noResponders ? { noResponders } : {}) });
  }

  take(prefix: string): Published[] {
    return this.published.filter((p) => p.subject.startsWith(prefix));
  }
}

export const FLOW: FlowRef = { instance: 't1', transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', id: 'udp0/127.0.0.1:5070' };

export function sipText(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(`${[...lines, `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\n\r\n${body}`);
}

let txnSeq = 0;

/** A RequestEnvelope for SIP text (fields taken from the parsed message). */
export function envelope(raw: Buffer, o: { txn?: string | null; cancels?: string } = {}): RequestEnvelope {
  const m = parseMessage(raw);
  if (m.kind !== 'request') throw new Error('not a request');
  const info = (na: typeof m.from) => ({ uri: na.uri.raw, ...(na.tag === undefined ? {} : { tag: na.tag }) });
  const txn = o.txn === null ? undefined : (o.txn ?? `txn-${++txnSeq}`);
  return {
    v: 1,
    instance: FLOW.instance,
    flow: FLOW,
    ...(txn === undefined ? {} : { txn }),
    receivedAt: Date.now(),
    method: m.method,
    uri: m.uri,
    callId: m.callId,
    cseq: { seq: m.cseq.seq, method: m.cseq.method },
    from: info(m.from),
    to: info(m.to),
    branch: m.topVia.branch ?? 'z9hG4bK-none',
    ...(o.cancels === undefined ? {} : { cancels: o.cancels }),
    raw: toBase64(raw),
  };
}

export interface Harness {
  readonly app: UaApp;
  readonly messaging: FakeMessaging;
  readonly clock: FakeClock;
  readonly calls: MemoryCallStore;
  readonly bindings: MemoryBindingStore;
  readonly flows: MemoryFlowIndexStore;
  /** Sends a request envelope and waits until the ua is idle. */
  send(env: RequestEnvelope): Promise<void>;
  /** Responses the ua published on sip.out.t1 since the last call (parsed). */
  responses(): { out: OutMessage; msg: SipResponse }[];
  /** Call events published since the last call. */
  callEvents(): CallEvent[];
  regEvents(): RegEvent[];
  /** Sends a command and returns the reply. */
  command(action: string, payload: unknown): Promise<CommandReply>;
  idle(): Promise<void>;
}

export interface HarnessOptions {
  /** The calls of another harness (use `otherInstance()` for a second ua instance's view). */
  readonly calls?: MemoryCallStore;
  readonly clock?: FakeClock;
  /** How long a flow index entry serves a binding (default: an hour and a minute). */
  readonly reindexAfterMs?: number;
}

export function harness(env: Record<string, string> = {}, o: HarnessOptions = {}): Harness {
  const config = loadConfig(uaSettings, { SIPNATS_INSTANCE_ID: 'ua-test', SIPNATS_REALM: 'test', SIPNATS_AUTH_SECRET: 'unit-test-secret-0123456789', ...env });
  const clock = o.clock ?? new FakeClock();
  const messaging = new FakeMessaging();
  const calls = o.calls ?? new MemoryCallStore();
  const random = seededRandom();
  const bindings = new MemoryBindingStore();
  const flows = new MemoryFlowIndexStore();
  const app = build({
    config,
    messaging,
    calls,
    uacs: new MemoryUacStore(),
    bindings,
    flows: { store: flows, reindexAfterMs: o.reindexAfterMs ?? 3_660_000 },
    nonceCounts: new MemoryNonceCountStore({ maxEntries: 1000, ttlMs: 300_000, clock: clock.read }),
    credentials: new StaticCredentialStore([credentialsFromPassword('alice', 'test', 'secret')]),
    nonceSecret: Buffer.from('unit-test-secret-0123456789'),
    clock: clock.read,
    random,
    log: createLogger({ name: 'ua-test', level: 'silent' }),
    metrics: createUaMetrics(new Registry()),
  });
  app.start();
  let outSeen = 0;
  let callSeen = 0;
  let regSeen = 0;
  const idle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      await app.queue.idle();
      await new Promise((r) => setImmediate(r));
    }
  };
  return {
    app,
    messaging,
    clock,
    calls,
    bindings,
    flows,
    idle,
    async send(e) {
      messaging.deliver(`sip.req.${e.method}`, encodeJson(RequestEnvelope, e));
      await idle();
    },
    responses() {
      const all = messaging.take('sip.out.');
      const fresh = all.slice(outSeen);
      outSeen = all.length;
      return fresh
        .map((p) => decodeJson(OutMessage, p.data))
        .filter((r): r is { ok: true; value: OutMessage } => r.ok && r.value.kind === 'response')
        .map((r) => ({ out: r.value, msg: parseMessage(fromBase64(r.value.raw)) as SipResponse }));
    },
    callEvents() {
      const all = messaging.take('sip.evt.call.');
      const fresh = all.slice(callSeen);
      callSeen = all.length;
      return fresh.map((p) => {
        const r = decodeJson(CallEvent, p.data);
        if (!r.ok) throw new Error(r.errors.join('; '));
        return r.value;
      });
    },
    regEvents() {
      const all = messaging.take('sip.evt.reg.');
      const fresh = all.slice(regSeen);
      regSeen = all.length;
      return fresh.map((p) => {
        const r = decodeJson(RegEvent, p.data);
        if (!r.ok) throw new Error(r.errors.join('; '));
        return r.value;
      });
    },
    async command(action, payload) {
      const reply = `_INBOX.cmd.${Math.random().toString(36).slice(2)}`;
      messaging.deliver(`sip.cmd.call.${action}`, Buffer.from(JSON.stringify(payload)), reply);
      await idle();
      const got = messaging.published.find((p) => p.subject === reply);
      if (got === undefined) throw new Error('no command reply');
      const r = decodeJson(CommandReply, got.data);
      if (!r.ok) throw new Error(r.errors.join('; '));
      return r.value;
    },
  };
}
