/** Base64 for the `raw` fields: strict on decode (standard alphabet, padded), zero-copy on encode. */
import { Buffer } from 'node:buffer';
import { CONTRACT_ERROR, ContractError } from './errors.js';

/** Base64 (standard alphabet, padded) of `bytes`. */
export function toBase64(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8').toString('base64');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Bytes of a base64 string. Throws ContractError (SIPNATS_ERR_BASE64) for anything but canonical
 * padded base64 of the standard alphabet. Node's decoder skips characters outside the alphabet and
 * takes the URL-safe one too, so the check is that encoding the bytes again gives the same text:
 * linear, in native code, and no regular expression (whose backtracking stack overflows on a few
 * MB of input).
 */
export function fromBase64(text: string): Buffer {
  const bytes = text.length % 4 === 0 ? Buffer.from(text, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64') !== text) {
    throw new ContractError(CONTRACT_ERROR.base64, 'invalid base64 (standard alphabet with padding expected)');
  }
  return bytes;
}
