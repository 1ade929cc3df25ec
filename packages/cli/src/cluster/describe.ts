/** Where a local cluster listens, as the lines `sipnats up --cluster` prints. */
import type { ClusterPlan } from './cluster-plan.js';

export function describeCluster(plan: ClusterPlan, authMode: 'deploy' | 'none'): string {
  const lines: string[] = [];
  const auth = authMode === 'deploy' ? 'users and permissions from deploy/nats/accounts.conf' : 'no authentication';
  lines.push(`NATS cluster "${plan.clusterName}" (JetStream, KV replicas ${plan.kvReplicas}, ${auth}):`);
  for (const n of plan.nats) lines.push(`  ${n.name.padEnd(16)} ${n.url}   routes :${n.clusterPort}   monitor http://${n.host}:${n.monitorPort}/healthz`);
  lines.push('SIP (transport instances):');
  for (const t of plan.transports) {
    const sip = Object.entries(t.sip).map(([proto, port]) => `${proto}:${plan.host}:${port}`);
    lines.push(`  ${t.instance.padEnd(16)} ${sip.join('  ')}   metrics http://${t.env['HTTP_LISTEN'] ?? ''}/metrics`);
  }
  lines.push('ua instances:');
  for (const u of plan.uas) lines.push(`  ${u.instance.padEnd(16)} metrics http://${u.env['HTTP_LISTEN'] ?? ''}/metrics`);
  lines.push(`state: ${plan.stateDir}`);
  return `${lines.join('\n')}\n`;
}
