/**
 * Call-IDs of the calls we place name their sipnats call: `<16 random hex>.<call id, base64url>`.
 * A request the callee sends in that dialog (its BYE, re-INVITE, INFO) then leads straight to the
 * call entry, without the dialog index a peer-chosen Call-ID needs (`dlg.<Call-ID>.<tag>`): two KV
 * operations less per outbound leg (the index written at the 2xx, deleted with the call). The random
 * part keeps the Call-ID unique across time even when a controller reuses a call id (RFC 3261 §8.1.1.4).
 *
 * Anyone can send a Call-ID of this shape: a derived call is only a candidate, taken when its entry
 * is an outbound dialog with exactly this Call-ID and that remote tag (handlers/in-dialog.ts).
 */
import { randomToken } from '../ports.js';
import type { RandomSource } from '../ports.js';

const RANDOM_BYTES = 8;
const RANDOM_HEX = RANDOM_BYTES * 2;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function outboundCallId(call: string, random: RandomSource): string {
  return `${randomToken(random, RANDOM_BYTES)}.${Buffer.from(call, 'utf8').toString('base64url')}`;
}

/** The call an outbound Call-ID names; undefined for any other Call-ID. */
export function callOfOutboundCallId(callId: string): string | undefined {
  if (callId.length <= RANDOM_HEX + 1 || callId.charCodeAt(RANDOM_HEX) !== 0x2e /* . */) return undefined;
  const tail = callId.slice(RANDOM_HEX + 1);
  if (!BASE64URL.test(tail)) return undefined;
  const call = Buffer.from(tail, 'base64url').toString('utf8');
  // Canonical only (one Call-ID per call): what does not encode back exactly is not ours.
  return call !== '' && Buffer.from(call, 'utf8').toString('base64url') === tail ? call : undefined;
}
