/**
 * @sipnats/ua — the pure protocol core of the UA/dialog service: digest auth, registrar and
 * dialogs. No sockets, timers, env or NATS here: clocks, randomness and stores are injected.
 */
export type { Clock, RandomSource } from './ports.js';
export { randomHex, randomToken } from './ports.js';
export type {
  AuthValueView,
  BodySpec,
  ContactView,
  CSeqView,
  Header,
  NameAddrView,
  ParamsView,
  RAckView,
  RequestSpec,
  RequestView,
  ResponseSpec,
  ResponseView,
  SessionExpiresView,
  UriView,
  ViaView,
} from './sip-view.js';
export { bodyText, quote, reasonPhrase } from './sip-view.js';
export { buildResponse, respond, snapshotRequest } from './response.js';
export type { RequestHeadersSnapshot, ResponseOptions } from './response.js';

// auth/
export { AuthError, AuthErrorCode } from './auth/errors.js';
export { computeHa1, computeResponse, DigestAlgorithm, hashFamily, parseAlgorithm } from './auth/digest-algorithm.js';
export type { HashFamily, ResponseInput } from './auth/digest-algorithm.js';
export { NonceService } from './auth/nonce.js';
export type { NonceCheck, NonceOptions } from './auth/nonce.js';
export { MemoryNonceCountStore, nonceKey } from './auth/nonce-count-store.js';
export type { NonceCountEntry, NonceCountStore, MemoryNonceCountStoreOptions } from './auth/nonce-count-store.js';
export {
  credentialsFromPassword,
  loadCredentialFile,
  parseCredentialJson,
  parseCredentialLines,
  StaticCredentialStore,
} from './auth/credential-store.js';
export type { CredentialStore, UserCredentials } from './auth/credential-store.js';
export { DigestAuthenticator } from './auth/digest-server.js';
export type {
  AuthRequest,
  AuthResult,
  BadRequestReason,
  ChallengeMode,
  ChallengeReason,
  DigestServerOptions,
  ForbiddenReason,
} from './auth/digest-server.js';
export { buildAuthorization, DigestClient, formatNc, pickChallenge } from './auth/digest-client.js';
export type { AuthorizationInput, ClientSecret } from './auth/digest-client.js';

// registrar/
export { BINDING_VERSION, contactValue, isBindingSet, remainingSeconds } from './registrar/binding.js';
export type { Binding, BindingSet, Flow } from './registrar/binding.js';
export { canonicalAor, contactKey } from './registrar/aor.js';
export { aorFromKey, aorKey, MemoryBindingStore } from './registrar/binding-store.js';
export type { BindingStore, StoredBindings } from './registrar/binding-store.js';
export { processRegister } from './registrar/registrar.js';
export type {
  RegisterInput,
  RegisterOutcome,
  RegisterRequestView,
  RegisterResult,
  RegistrarConfig,
  RegistrationEvent,
  RegistrationEventName,
} from './registrar/registrar.js';
export { locate, sweepExpired } from './registrar/location.js';
export type { LocatedContact, SweepOutcome } from './registrar/location.js';
export { registerWithStore, RegistrarConflictError } from './registrar/register-with-store.js';
export type { FlowIndexing } from './registrar/register-with-store.js';
export { indexFlow, isFlowAors, MemoryFlowIndexStore, MAX_FLOW_AORS, MAX_FLOW_BYTES, withAor } from './registrar/flow-index.js';
export type { FlowAors, FlowIndexStore, FlowKey, IndexOutcome, StoredFlowAors } from './registrar/flow-index.js';
export { unbindFlow, unbindWithStore } from './registrar/unbind.js';
export type { UnbindOutcome, UnbindTarget } from './registrar/unbind.js';

// dialog/
export { DEFAULT_ALLOW, DIALOG_VERSION, SUPPORTED } from './dialog/types.js';
export type {
  CallPhase,
  DialogConfig,
  DialogEvent,
  DialogEventName,
  DialogRecord,
  DialogState,
  IncomingRefer,
  OutgoingRefer,
  OutResponse,
  ResponseTarget,
  SessionTimer,
  TimerName,
  TimerSpec,
  Transition,
} from './dialog/types.js';
export { acceptInvite } from './dialog/uas-invite.js';
export type { InviteAcceptance, NewInvite } from './dialog/uas-invite.js';
export { handleCommand, reasonHeader } from './dialog/commands.js';
export type { CommandErrorCode, CommandOutcome, DialogCommand } from './dialog/commands.js';
export { handleRequest, handleResponse, matchesDialog, unknownDialog } from './dialog/in-dialog.js';
export type { InDialogInput } from './dialog/in-dialog.js';
export { handleTimer } from './dialog/timers.js';
export { negotiateSessionTimer, expireAt, refreshAt } from './dialog/session-timer.js';
export { parseDtmf } from './dialog/dtmf.js';
export { DEFAULT_TRANSFER_TIMEOUT_MS, parseEventHeader, parseSipfrag, parseSubscriptionState, referTarget, SIPFRAG } from './dialog/transfer.js';
export type { Sipfrag } from './dialog/transfer.js';
export type { Dtmf } from './dialog/dtmf.js';
export { dialogKey, MemoryDialogStore } from './dialog/dialog-store.js';
export type { DialogStore, StoredDialog } from './dialog/dialog-store.js';

// service wiring (app, config, stores, handlers, control, ops)
export { build, dialogConfig } from './app.js';
export type { UaApp, UaDeps } from './app.js';
export { uaSettings, uaChecks } from './config.js';
export type { UaConfig } from './config.js';
export { UaError, UA_ERROR, isUnavailable } from './errors.js';
export type { UaErrorCode } from './errors.js';
export { KvRecords } from './store/kv-records.js';
export type { Stored, KvOp, KvObserver, KvRecordsOptions } from './store/kv-records.js';
export { KvBindingStore } from './store/kv-binding-store.js';
export { KvNonceCountStore, isNonceCountValue } from './store/kv-nonce-count-store.js';
export type { NonceCountValue } from './store/kv-nonce-count-store.js';
export { KvCredentialStore, ChainedCredentialStore, isUserCredentials } from './store/kv-credential-store.js';
export { KvCallStore, MemoryCallStore, CALL_ENTRY_VERSION, MARK_SLOT_MS, earliestTimer, isCallsValue, markSlot, removalTicket, type DueMark, type KvCallStoreOptions, type RemovalTicket } from './store/call-store.js';
export type { CallEntry, CallIndex, CallStore, CallsValue, TimerMark } from './store/call-store.js';
export { encodeRequest, encodeResponse } from './handlers/sip-encode.js';
export { executeCommand } from './control/commands.js';
export { createUaMetrics } from './ops/metrics.js';
export type { UaMetrics } from './ops/metrics.js';
export { createOpsServer, listenOps } from '@sipnats/ops';
export { natsMessaging } from './runtime/messaging.js';
export type { InMessage, Messaging, MessagingSubscription } from './runtime/messaging.js';
export { LANE, WorkQueue, type Lane } from './runtime/work-queue.js';
export type { UaContext, UaPolicy, RequestOrigin } from './handlers/context.js';

// uac/ — outbound INVITE sessions (forking, digest, CANCEL, RFC 3263 failover)
export { startOutboundCall } from './uac/start.js';
export type { OutboundCall } from './uac/start.js';
export { handleUacLocalFinal, handleUacResponse } from './uac/response.js';
export type { LocalFinal, UacResponseView, UacStepContext } from './uac/response.js';
export { handleUacCommand, handleUacTimer } from './uac/control.js';
export { adaptDialogTransition, handleUacRequest } from './uac/in-dialog-adapter.js';
export type { UacCommandOutcome } from './uac/in-dialog-adapter.js';
export { inviteTxnRef } from './uac/builders.js';
export { answerChallenge } from './uac/challenge.js';
export type { AuthEntry, ChallengeAnswer, ChallengeInput } from './uac/challenge.js';
export { UacError, UacErrorCode } from './uac/errors.js';
export { MAX_AUTH_ENTRIES, MAX_EARLY_DIALOGS, MAX_FORKS, UAC_VERSION } from './uac/types.js';
export type {
  AckedLeg,
  CancelState,
  EarlyDialog,
  UacConfig,
  UacCredentials,
  UacEvent,
  UacEventName,
  UacPhase,
  UacRecord,
  UacRequest,
  UacRequestPurpose,
  UacTarget,
  UacTimerName,
  UacTimerSpec,
  UacTransition,
} from './uac/types.js';

// resolver/ — RFC 3263 with TTL cache and failover
export { SipResolver } from './resolver/resolver.js';
export type { SipResolverOptions } from './resolver/resolver.js';
export { NodeDnsPort } from './resolver/node-dns.js';
export type { NodeDnsOptions } from './resolver/node-dns.js';
export { Failover, isFailoverResponse, outTarget, TargetBlacklist, targetKey } from './resolver/failover.js';
export type { BlacklistOptions } from './resolver/failover.js';
export { orderSrv } from './resolver/srv-order.js';
export { TtlCache } from './resolver/ttl-cache.js';
export { ResolverError, ResolverErrorCode } from './resolver/errors.js';
export type { AddressRecord, DnsPort, NaptrRecord, RecordSet, ResolvableUri, ResolvedTarget, SipTransport, SrvRecord } from './resolver/types.js';

// outbound-reg/ — REGISTER to trunks
export {
  createRegistration,
  handleRegLocalFinal,
  handleRegResponse,
  handleRegTimer,
  refreshDelayMs,
  retryDelayMs,
  startRegistration,
  unregister,
} from './outbound-reg/registration.js';
export type { RegContext, RegResponseView } from './outbound-reg/registration.js';
export { REGISTRATION_VERSION } from './outbound-reg/types.js';
export type {
  OutboundRegConfig,
  RegEventSpec,
  RegistrationPhase,
  RegistrationRecord,
  RegRequest,
  RegTimerName,
  RegTransition,
  TrunkConfig,
} from './outbound-reg/types.js';
