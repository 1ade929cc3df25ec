/** Building blocks shared by the envelopes: limits, FlowRef, NameAddrInfo, CSeq. */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { ENVELOPE_VERSION, TRANSPORTS } from '../constants.js';

/** Size limits every receiver can rely on (also in the JSON Schemas). */
export const LIMITS = {
  /** Base64 of a SIP message: 1 MiB of bytes (NATS' default max payload). */
  rawBase64: 1_398_104,
  uri: 4096,
  token: 256,
  id: 512,
  text: 1024,
  sdp: 65_536,
  body: 262_144,
  headers: 32,
  headerValue: 1024,
  contacts: 16,
} as const;

export function version(): TLiteral<typeof ENVELOPE_VERSION> {
  return Type.Literal(ENVELOPE_VERSION, { description: `Envelope version, always ${ENVELOPE_VERSION}.` });
}

/** A union of string literals (JSON Schema `anyOf` of `const`). */
export function literals<const T extends readonly string[]>(values: T, description: string): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v as T[number])), { description });
}

export const Base64 = (description: string) =>
  Type.String({ maxLength: LIMITS.rawBase64, pattern: '^[A-Za-z0-9+/]*={0,2}$', contentEncoding: 'base64', description });

export const EpochMs = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description });

/** Socket address: `ip:port`, or `[v6]:port` for IPv6 (optionally with a zone). */
export const SocketAddress = (description: string) =>
  Type.String({
    maxLength: 128,
    pattern: '^(\\[[0-9A-Fa-f:.]+(%[^\\]\\s]+)?\\]|[0-9]{1,3}(\\.[0-9]{1,3}){3}):[0-9]{1,5}$',
    description,
  });

export const Transport = literals(TRANSPORTS, 'SIP transport.');

export const InstanceId = (description: string) => Type.String({ minLength: 1, maxLength: LIMITS.token, description });

export const SipToken = (description: string) =>
  Type.String({ minLength: 1, maxLength: LIMITS.token, pattern: "^[A-Za-z0-9.!%*_+`'~-]+$", description });

export const HeaderMap = (description: string) =>
  Type.Record(
    Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" }),
    Type.String({ maxLength: LIMITS.headerValue, pattern: '^[^\\r\\n\\u0000]*$' }),
    { maxProperties: LIMITS.headers, additionalProperties: false, description },
  );

export const FlowRef = Type.Object(
  {
    instance: InstanceId('Id of the transport instance that owns the flow (not encoded).'),
    transport: Transport,
    local: SocketAddress('Local address of the flow, `ip:port` or `[v6]:port`.'),
    remote: SocketAddress('Remote address of the flow, `ip:port` or `[v6]:port`.'),
    id: Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'Flow id: the connection id on streams, `<listener>/<remote>` on UDP.' }),
    token: Type.Optional(
      Type.String({ minLength: 1, maxLength: LIMITS.id, description: 'HMAC-authenticated flow token issued by the owning transport (as used in Record-Route/Path).' }),
    ),
  },
  {
    $id: 'FlowRef',
    additionalProperties: false,
    description: 'A transport flow (connection or UDP 5-tuple) owned by one transport instance.',
  },
);
export type FlowRef = Static<typeof FlowRef>;

export const NameAddrInfo = Type.Object(
  {
    uri: Type.String({ minLength: 1, maxLength: LIMITS.uri, description: 'The URI of the name-addr, e.g. `sip:alice@example.com`.' }),
    display: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Display name, unquoted.' })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.token, description: 'The `tag` parameter.' })),
  },
  { $id: 'NameAddrInfo', additionalProperties: false, description: 'A From/To header reduced to URI, display name and tag.' },
);
export type NameAddrInfo = Static<typeof NameAddrInfo>;

export const CSeq = Type.Object(
  {
    seq: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1, description: 'CSeq sequence number (RFC 3261 §8.1.1.5: a 32-bit unsigned integer).' }),
    method: SipToken('CSeq method.'),
  },
  { $id: 'CSeq', additionalProperties: false, description: 'The CSeq header.' },
);
export type CSeq = Static<typeof CSeq>;
