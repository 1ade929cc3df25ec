/** A throw-away self-signed certificate for 127.0.0.1 (openssl in a temp dir). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  dispose(): void;
}

export function makeTestCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'sipnats-cert-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  return { dir, cert, key, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
