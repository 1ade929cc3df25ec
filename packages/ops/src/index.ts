/** @sipnats/ops: the operations HTTP endpoint shared by the sipnats services. */
export { createOpsServer, listenOps, closeOps, type OpsState, type Readiness, type MetricsSource } from './http.js';
