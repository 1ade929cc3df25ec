/**
 * `sipnats tail --json`: one JSON object per message, shaped by `TailJsonLine` (TypeBox; no extra
 * properties). Fields:
 *
 * - `v`          1, the version of this line format
 * - `time`       ISO 8601 time from `Sipnats-Time` (or of receipt when the header is missing)
 * - `ts`         the same time in ms since the epoch
 * - `subject`    NATS subject the message came on
 * - `direction`  `in` (the transport received it) or `out` (the transport sent it)
 * - `instance`   transport instance id (decoded)
 * - `transport`  `udp` `tcp` `tls` `ws` `wss`, or null when the header is missing or unknown
 * - `local`, `remote`  `ip:port` / `[v6]:port`, or null when missing or malformed
 * - `flow`       flow id, or null
 * - `size`       payload size in bytes
 * - `ok`         true when the payload parsed as SIP; then:
 *   `kind` (`request`|`response`), `method` + `uri` (requests) or `status` + `reason` (responses),
 *   `callId`, `cseq` `{seq, method}`, `fromUser`, `toUser`, `fromTag`, `toTag` (when present)
 * - when `ok` is false: `error` `{code, message}` (a sip-codec error code)
 * - `raw`        the whole message as UTF-8 text (invalid bytes replaced), only with `--full`
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { TRANSPORTS } from '@sipnats/contracts';
import { formatSocketAddress } from './address.js';
import type { RawRecord } from './raw-record.js';

export const TAIL_JSON_VERSION = 1;

const NullableString = () => Type.Union([Type.String({ minLength: 1 }), Type.Null()]);

export const TailJsonLine = Type.Object(
  {
    v: Type.Literal(TAIL_JSON_VERSION),
    time: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' }),
    ts: Type.Integer({ minimum: 0 }),
    subject: Type.String({ minLength: 1 }),
    direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
    instance: Type.String({ minLength: 1 }),
    transport: Type.Union([...TRANSPORTS.map((t) => Type.Literal(t)), Type.Null()]),
    local: NullableString(),
    remote: NullableString(),
    flow: NullableString(),
    size: Type.Integer({ minimum: 0 }),
    ok: Type.Boolean(),
    kind: Type.Optional(Type.Union([Type.Literal('request'), Type.Literal('response')])),
    method: Type.Optional(Type.String({ minLength: 1 })),
    uri: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 699 })),
    reason: Type.Optional(Type.String()),
    callId: Type.Optional(Type.String({ minLength: 1 })),
    cseq: Type.Optional(Type.Object({ seq: Type.Integer({ minimum: 0 }), method: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
    fromUser: Type.Optional(Type.String()),
    toUser: Type.Optional(Type.String()),
    fromTag: Type.Optional(Type.String()),
    toTag: Type.Optional(Type.String()),
    error: Type.Optional(Type.Object({ code: Type.String({ minLength: 1 }), message: Type.String() }, { additionalProperties: false })),
    raw: Type.Optional(Type.String()),
  },
  { additionalProperties: false, $id: 'TailJsonLine' },
);
export type TailJsonLine = Static<typeof TailJsonLine>;

/** The JSON object of one record. */
export function toJsonLine(r: RawRecord, full: boolean): TailJsonLine {
  const line: TailJsonLine = {
    v: TAIL_JSON_VERSION,
    time: new Date(r.time).toISOString(),
    ts: r.time,
    subject: r.subject,
    direction: r.direction,
    instance: r.instance,
    transport: r.transport ?? null,
    local: r.local === undefined ? null : formatSocketAddress(r.local),
    remote: r.remote === undefined ? null : formatSocketAddress(r.remote),
    flow: r.flow ?? null,
    size: r.bytes.length,
    ok: r.outcome.ok,
  };
  if (r.outcome.ok) Object.assign(line, r.outcome.sip, { cseq: { ...r.outcome.sip.cseq } });
  else line.error = { code: r.outcome.code, message: r.outcome.error };
  if (full) line.raw = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength).toString('utf8');
  return line;
}
