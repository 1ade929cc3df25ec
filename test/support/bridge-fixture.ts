/**
 * The B2BUA end-to-end fixture shared by the bridge suites: its own nats-server, a transport (UDP)
 * and a ua (no auth), and a controller on NATS that bridges every inbound `offer` and keeps every
 * call event, every bridge reply and the last raw messages the transport sent. SIPp callees
 * register from the port they then listen on (the binding's flow and Contact are that address, as
 * for a phone); SIPp callers call a user through the transport.
 */
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CallEvent, CommandReply, decodeJson } from '@sipnats/contracts';
import { startNatsServer, type NatsServer } from './nats-server.js';
import { freePort } from './ports.js';
import { runSipp, startSipp, type SippResult, type SippRun } from './sipp.js';
import { startTransport, type TransportProcess } from './transport-process.js';
import { startUa, type UaProcess } from './ua-process.js';

export interface BridgeFixture {
  readonly transport: TransportProcess;
  readonly ua: UaProcess;
  /** Every call event, in order. */
  readonly events: CallEvent[];
  /** The reply to every `bridge` command the controller sent. */
  readonly replies: CommandReply[];
  /** The last raw messages on `sip.raw.out.>` (at most 500). */
  readonly raw: string[];
  /** A SIPp UAS registered as `user`, running `scenario` on the port it registered from. */
  callee(user: string, scenario: string): Promise<SippRun>;
  /** A SIPp UAC calling `user` with `scenario` through the transport. */
  caller(scenario: string, user: string): Promise<SippResult>;
  /** What to print when a SIPp run failed: its output, the services' logs, events and replies. */
  explain(r: SippResult, who: string): string;
  stop(): Promise<void>;
}

/**
 * A controller that keeps every call event in `events` and answers every inbound `offer` with a
 * `bridge` command; `onReply` gets each command's reply (a failed or missing one as `ok: false`).
 */
export function bridgeEveryOffer(nc: NatsConnection, events: CallEvent[], onReply?: (reply: CommandReply) => void): void {
  const sub = nc.subscribe('sip.evt.call.*');
  void (async () => {
    for await (const m of sub) {
      const r = decodeJson(CallEvent, m.data);
      if (!r.ok) continue;
      events.push(r.value);
      if (r.value.event === 'offer' && r.value.direction === 'inbound') {
        const reply = await nc.request('sip.cmd.call.bridge', JSON.stringify({ v: 1, action: 'bridge', call: r.value.call }), { timeout: 5000 }).catch(() => undefined);
        if (onReply === undefined) continue;
        const d = reply === undefined ? undefined : decodeJson(CommandReply, reply.data);
        if (d?.ok === true) onReply(d.value);
        else onReply({ v: 1, ok: false, error: d?.ok === false ? d.errors.join('; ') : 'no reply' });
      }
    }
  })();
}

export async function startBridgeFixture(name: string): Promise<BridgeFixture> {
  const events: CallEvent[] = [];
  const replies: CommandReply[] = [];
  const raw: string[] = [];
  const nats: NatsServer = await startNatsServer();
  const transport = await startTransport({ natsUrl: nats.url, instance: `tr-${name}`, transports: ['udp'] });
  const ua = await startUa({ natsUrl: nats.url, instance: `ua-${name}`, env: { SIPNATS_AUTH_REQUIRED: 'false', SIPNATS_SWEEP_INTERVAL: '200ms' } });
  const nc: NatsConnection = await connect({ servers: nats.url });
  bridgeEveryOffer(nc, events, (reply) => replies.push(reply));
  const rawSub = nc.subscribe('sip.raw.out.>');
  void (async () => {
    for await (const m of rawSub) if (raw.push(Buffer.from(m.data).toString('utf8')) > 500) raw.splice(0, 250);
  })();
  await nc.flush();

  const remote = `127.0.0.1:${transport.ports['udp'] ?? 0}`;
  const logs = (): string => `--- ua ---\n${ua.logs.slice(-60).join('\n')}\n--- transport ---\n${transport.logs.slice(-40).join('\n')}`;
  const explain = (r: SippResult, who: string): string =>
    `${who}: SIPp exit ${String(r.code)}\n${r.output.slice(-1500)}\n${logs()}\n--- events ---\n${events.map((e) => `${e.call} ${e.event} ${e.status ?? ''} ${e.cause ?? ''}`).join('\n')}\n--- bridge replies ---\n${JSON.stringify(replies)}`;

  return {
    transport,
    ua,
    events,
    replies,
    raw,
    explain,
    async callee(user, scenario) {
      const port = await freePort();
      const reg = await runSipp({ scenario: 'uac-register-contact.xml', remote, localPort: port, timeoutMs: 5000, args: ['-s', user, '-key', 'contact_port', String(port)] });
      assert.equal(reg.code, 0, explain(reg, `register ${user}`));
      const run = startSipp({ scenario, localPort: port, timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      return run;
    },
    async caller(scenario, user) {
      return runSipp({ scenario, remote, localPort: await freePort(), timeoutMs: 15_000, args: ['-s', user, '-recv_timeout', '8000'] });
    },
    async stop() {
      await nc.close().catch(() => undefined);
      await ua.stop('SIGTERM');
      await transport.stop('SIGTERM');
      await nats.dispose();
    },
  };
}
