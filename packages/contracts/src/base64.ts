/** Base64 for the `raw` fields: strict on decode (standard alphabet, padded), zero-copy on encode. */
import { Buffer } from 'node:buffer';
import { CONTRACT_ERROR, ContractError } from './errors.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 (standard alphabet, padded) of `bytes`. */
export function toBase64(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8').toString('base64');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Bytes of a base64 string. Throws ContractError (SIPNATS_ERR_BASE64) for anything but canonical padded base64. */
export function fromBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new ContractError(CONTRACT_ERROR.base64, 'invalid base64 (standard alphabet with padding expected)');
  }
  return Buffer.from(text, 'base64');
}
