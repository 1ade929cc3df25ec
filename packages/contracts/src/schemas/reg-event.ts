import { Type, type Static } from '@sinclair/typebox';
import { EpochMs, FlowRef, InstanceId, LIMITS, literals, version } from './common.js';

/** Every registration event. Subject `<p>.evt.reg.<event>`. */
export const REG_EVENTS = ['registered', 'refreshed', 'unregistered', 'expired', 'failed'] as const;
export type RegEventName = (typeof REG_EVENTS)[number];

/** ua → controllers on `<p>.evt.reg.<event>`. */
export const RegEvent = Type.Object(
  {
    v: version(),
    event: literals(
      REG_EVENTS,
      'registered: new binding; refreshed: existing binding renewed; unregistered: removed by the UA (Expires 0 or `*`), or by the registrar because its flow is gone (`reason` says so); expired: timed out; failed: authentication or validation failed.',
    ),
    aor: Type.String({ minLength: 1, maxLength: LIMITS.uri, description: 'Address of record (To URI), e.g. `sip:alice@example.com`.' }),
    contact: Type.String({ maxLength: LIMITS.uri, description: 'Contact URI of the binding (`*` for a wildcard removal, empty for `failed` without contact).' }),
    expires: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Granted expiry in seconds (0 when removed).' }),
    at: EpochMs('Event time, milliseconds since the Unix epoch.'),
    instance: InstanceId('Id of the ua instance that produced the event.'),
    flow: Type.Optional(FlowRef),
    userAgent: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'User-Agent header of the REGISTER.' })),
    reason: Type.Optional(
      Type.String({
        maxLength: LIMITS.text,
        description: 'Why it failed (event `failed`); for `unregistered` by the registrar, why the binding was removed: `flow closed (<FlowEvent reason>)` or `flow failed (430)`.',
      }),
    ),
  },
  { $id: 'RegEvent', additionalProperties: false, description: 'A registrar event.' },
);
export type RegEvent = Static<typeof RegEvent>;
