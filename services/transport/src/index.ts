/** @sipnats/transport: the SIP edge service. Public pieces other parts may reuse. */
export { build, type App, type AppDeps } from './app.js';
export { transportSettings, transportChecks, type TransportConfig } from './config.js';
export { TokenCodec, TokenFault, BRANCH_PREFIX, NO_FLOW, type Owner, type TokenResult } from './routing/token.js';
export { FLOW_PARAM, flowUri, flowRouteHeader } from './routing/flow-uri.js';
export { parseListenSpec, parseAdvertise, formatHostPort, type HostPort, type ListenSpec, type TransportName } from './listeners/address.js';
export { createMetrics, type TransportMetrics } from './ops/metrics.js';
export type { NatsPort, PortMessage, PortSubscription } from './publish/nats-port.js';
