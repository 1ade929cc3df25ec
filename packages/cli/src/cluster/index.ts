/** The local cluster module (`sipnats up --cluster`, fault tests). */
export { startLocalCluster, ClusterStartError, type LocalCluster, type LocalClusterOptions } from './local-cluster.js';
export { planCluster, natsNodeConfig, type ClusterPlan, type ClusterPorts, type NatsNodePlan, type ServicePlan, type SipTransport } from './cluster-plan.js';
export { natsAuthFromDeploy, noNatsAuth, NATS_USERS, ACCOUNTS_CONF, type NatsAuth, type NatsUser } from './nats-auth.js';
export { SERVICE_START, serviceArgs, type ServiceStart } from './services.js';
export { NatsNode } from './nats-node.js';
export { ServiceNode, sumMetric } from './service-node.js';
export { ManagedChild, ChildStartError, type LineSink } from './child-process.js';
export { PortAllocator, NoFreePortError } from './free-port.js';
export { describeCluster } from './describe.js';
