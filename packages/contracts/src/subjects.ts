/**
 * Subject builders. Every subject sipnats uses is built here; callers never concatenate subjects.
 * Values from the wire or configuration (instance ids, methods, event and action names) are encoded
 * with `encodeToken`, so a builder always returns a legal NATS subject.
 */
import { DEFAULT_PREFIX, SUBJECT_PARTS } from './constants.js';
import { CONTRACT_ERROR, ContractError } from './errors.js';
import { decodeToken, encodeToken } from './token.js';

export interface Subjects {
  /** The validated prefix. */
  readonly prefix: string;
  /** `<p>.raw.in.<instance>`: raw inbound messages of a transport instance. */
  rawIn(instance: string): string;
  /** `<p>.raw.out.<instance>`: raw outbound messages of a transport instance. */
  rawOut(instance: string): string;
  /** `<p>.raw.in.*` */
  rawInAll(): string;
  /** `<p>.raw.out.*` */
  rawOutAll(): string;
  /** `<p>.req.<METHOD>`: parsed requests for the `ua` queue group. */
  req(method: string): string;
  /** `<p>.req.*` */
  reqAll(): string;
  /** `<p>.out.<instance>`: messages for one transport instance to send. */
  out(instance: string): string;
  /** `<p>.out`: new requests any transport instance may send (queue group `transport`). */
  outAny(): string;
  /** `<p>.fwd.<instance>`: messages forwarded to the transport instance that owns them. */
  fwd(instance: string): string;
  /** `<p>.evt.call.<event>` */
  evtCall(event: string): string;
  /** `<p>.evt.call.*` */
  evtCallAll(): string;
  /** `<p>.evt.reg.<event>` */
  evtReg(event: string): string;
  /** `<p>.evt.reg.*` */
  evtRegAll(): string;
  /** `<p>.evt.channel.<event>`: a media server channel tied to a sipnats call (mod_sipnats). */
  evtChannel(event: string): string;
  /** `<p>.evt.channel.*` */
  evtChannelAll(): string;
  /** `<p>.evt.flow.<event>`: a transport instance's flow events (e.g. `closed`), queue group `ua`. */
  evtFlow(event: string): string;
  /** `<p>.evt.flow.*` */
  evtFlowAll(): string;
  /** `<p>.cmd.call.<action>` (request/reply) */
  cmdCall(action: string): string;
  /** `<p>.cmd.call.*` */
  cmdCallAll(): string;
  /**
   * The decoded last token of `subject` when it is `<p>.<part>.<token>` (e.g. the method of a
   * `req` subject, the action of a `cmd.call` subject); `undefined` otherwise.
   */
  lastToken(subject: string, part: keyof typeof SUBJECT_PARTS): string | undefined;
}

const MAX_PREFIX_LENGTH = 128;

/** True for a legal NATS subject token: printable ASCII without `.`, `*`, `>`. */
function isLegalToken(t: string): boolean {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x2a || c === 0x3e) return false;
  }
  return true;
}

/** Throws ContractError unless `prefix` is one or more dot-separated legal subject tokens. */
export function validatePrefix(prefix: string): string {
  if (prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH) {
    throw new ContractError(CONTRACT_ERROR.prefix, `subject prefix must be 1 to ${MAX_PREFIX_LENGTH} characters`);
  }
  const tokens = prefix.split('.');
  for (const t of tokens) {
    if (!isLegalToken(t)) {
      throw new ContractError(
        CONTRACT_ERROR.prefix,
        `invalid subject prefix ${JSON.stringify(prefix)}: tokens must be non-empty printable ASCII without '.', '*', '>' or spaces`,
      );
    }
  }
  return prefix;
}

/** Subject builders for `prefix` (default `sip`). Throws ContractError for an invalid prefix. */
export function subjects(prefix: string = DEFAULT_PREFIX): Subjects {
  const p = validatePrefix(prefix);
  const at = (part: string, token: string): string => `${p}.${part}.${encodeToken(token)}`;
  const all = (part: string): string => `${p}.${part}.*`;
  return Object.freeze({
    prefix: p,
    rawIn: (instance: string) => at(SUBJECT_PARTS.rawIn, instance),
    rawOut: (instance: string) => at(SUBJECT_PARTS.rawOut, instance),
    rawInAll: () => all(SUBJECT_PARTS.rawIn),
    rawOutAll: () => all(SUBJECT_PARTS.rawOut),
    req: (method: string) => at(SUBJECT_PARTS.req, method),
    reqAll: () => all(SUBJECT_PARTS.req),
    out: (instance: string) => at(SUBJECT_PARTS.out, instance),
    outAny: () => `${p}.${SUBJECT_PARTS.out}`,
    fwd: (instance: string) => at(SUBJECT_PARTS.fwd, instance),
    evtCall: (event: string) => at(SUBJECT_PARTS.evtCall, event),
    evtCallAll: () => all(SUBJECT_PARTS.evtCall),
    evtReg: (event: string) => at(SUBJECT_PARTS.evtReg, event),
    evtRegAll: () => all(SUBJECT_PARTS.evtReg),
    evtChannel: (event: string) => at(SUBJECT_PARTS.evtChannel, event),
    evtChannelAll: () => all(SUBJECT_PARTS.evtChannel),
    evtFlow: (event: string) => at(SUBJECT_PARTS.evtFlow, event),
    evtFlowAll: () => all(SUBJECT_PARTS.evtFlow),
    cmdCall: (action: string) => at(SUBJECT_PARTS.cmdCall, action),
    cmdCallAll: () => all(SUBJECT_PARTS.cmdCall),
    lastToken(subject: string, part: keyof typeof SUBJECT_PARTS): string | undefined {
      const head = `${p}.${SUBJECT_PARTS[part]}.`;
      if (!subject.startsWith(head)) return undefined;
      const token = subject.slice(head.length);
      if (token.includes('.')) return undefined;
      try {
        return decodeToken(token);
      } catch {
        return undefined;
      }
    },
  });
}
