/**
 * @sipnats/bus: the NATS connection (reconnect, status, drain), KV helpers (nats.js KV, and CoreKv
 * for hot paths), a request mux on core NATS, and micro-service helpers.
 */
export { connectBus, backoffDelay, type Bus, type ConnectBusOptions, type BusTlsOptions, type StatusListener } from './connect.js';
export {
  openKv,
  kvGetJson,
  kvPutJson,
  kvCreateJson,
  kvReplaceJson,
  kvUpdateJson,
  kvDelete,
  type KV,
  type OpenKvOptions,
  type KvValue,
  type KvUpdateOptions,
} from './kv.js';
export { CoreKv, openCoreKv, type CoreKvEntry, type CoreKvOptions, type CoreKvCallOptions, type CoreKvDeleteOptions, type KvOperation } from './core-kv.js';
export { RequestMux, type RequestMuxOptions } from './request-mux.js';
export { HeldPublisher, type Publish } from './held-publisher.js';
export { redactServerUrl, splitServerCredentials, REDACTED_USERINFO, type ServerCredentials } from './server-url.js';
export { kvKey, encodeKvToken, decodeKvToken, MAX_KV_KEY_LENGTH } from './kv-key.js';
export { registerService, type RegisterServiceOptions, type ServiceHandle } from './service.js';
export { BusError, KvConflictError, NatsRequestError, KvStatusError, BUS_ERROR, type BusErrorCode, type NatsRequestFailure } from './errors.js';
export type { NatsConnection, Msg, MsgHdrs, Status, Subscription } from '@nats-io/nats-core';
export { headers as natsHeaders } from '@nats-io/nats-core';
