/**
 * The offline kustomize subset (test/support/deploy-kustomize.ts), its strategic merge and its
 * JSON 6902 patches, on small kustomizations written to a temp directory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { applyJsonPatch } from '../support/deploy-json-patch.js';
import { KustomizeError, parseEnvFile, renderKustomization, type Manifest } from '../support/deploy-kustomize.js';
import { strategicMerge, type JsonObject } from '../support/deploy-merge.js';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: example/web:1.0
          ports:
            - { name: http, containerPort: 8080 }
          envFrom:
            - configMapRef: { name: web-config }
          env:
            - name: TOKEN
              valueFrom:
                secretKeyRef: { name: web-secret, key: token }
          volumeMounts:
            - { name: files, mountPath: /etc/web }
      volumes:
        - name: files
          secret: { secretName: web-secret }
`;

describe('deploy kustomize subset', function () {
  let dir: string;
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const get = (ms: Manifest[], kind: string, prefix: string): Manifest => {
    const m = ms.find((x) => x.kind === kind && x.metadata.name.startsWith(prefix));
    assert.ok(m, `${kind} ${prefix}`);
    return m;
  };
  const spec = (m: Manifest): JsonObject => m.spec as JsonObject;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'sipnats-kustomize-'));
    write('base/deployment.yaml', DEPLOYMENT);
    write('base/web.env', '# settings\nMODE=base\nLEVEL=info\n\n');
    write('base/token.txt', 's3cret');
    write(
      'base/kustomization.yaml',
      `resources: [deployment.yaml]
namespace: demo
labels:
  - pairs: { part-of: demo }
configMapGenerator:
  - name: web-config
    envs: [web.env]
secretGenerator:
  - name: web-secret
    files: [token=token.txt]
images:
  - name: example/web
    newTag: "2.0"
`,
    );
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a base: namespace, labels, images, generators with hashed names and rewritten references', function () {
    const ms = renderKustomization(join(dir, 'base'));
    const cm = get(ms, 'ConfigMap', 'web-config-');
    assert.match(cm.metadata.name, /^web-config-[a-z0-9]{10}$/);
    assert.deepEqual(cm.data, { MODE: 'base', LEVEL: 'info' });
    const secret = get(ms, 'Secret', 'web-secret-');
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(secret.data, { token: Buffer.from('s3cret').toString('base64') });
    const d = get(ms, 'Deployment', 'web');
    assert.equal(d.metadata.namespace, 'demo');
    assert.deepEqual(d.metadata.labels, { 'part-of': 'demo' });
    const c = ((spec(d).template as JsonObject).spec as JsonObject).containers as JsonObject[];
    assert.equal(c[0]?.image, 'example/web:2.0');
    assert.deepEqual(c[0]?.envFrom, [{ configMapRef: { name: cm.metadata.name } }]);
    assert.equal(((c[0]?.env as JsonObject[])[0]?.valueFrom as JsonObject).secretKeyRef && secret.metadata.name, secret.metadata.name);
    const volumes = ((spec(d).template as JsonObject).spec as JsonObject).volumes as JsonObject[];
    assert.deepEqual(volumes[0]?.secret, { secretName: secret.metadata.name });
    assert.deepEqual((spec(d).selector as JsonObject).matchLabels, { app: 'web' }, 'selectors untouched');
  });

  it('changes the hash suffix when generated content changes', function () {
    const before = get(renderKustomization(join(dir, 'base')), 'ConfigMap', 'web-config-').metadata.name;
    write('base/web.env', 'MODE=other\n');
    const after = get(renderKustomization(join(dir, 'base')), 'ConfigMap', 'web-config-').metadata.name;
    assert.notEqual(before, after);
  });

  it('merges overlay generators into the base ones and applies strategic merge and JSON 6902 patches', function () {
    write(
      'overlay/kustomization.yaml',
      `resources: [../base]
configMapGenerator:
  - name: web-config
    behavior: merge
    literals: [MODE=overlay, EXTRA=1]
patches:
  - path: smp.yaml
  - target: { group: apps, version: v1, kind: Deployment, name: web }
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 5
`,
    );
    write(
      'overlay/smp.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - name: ADDED
              value: "yes"
          ports:
            - { name: metrics, containerPort: 9090 }
`,
    );
    const ms = renderKustomization(join(dir, 'overlay'));
    assert.deepEqual(get(ms, 'ConfigMap', 'web-config-').data, { MODE: 'overlay', LEVEL: 'info', EXTRA: '1' });
    const d = get(ms, 'Deployment', 'web');
    assert.equal(spec(d).replicas, 5);
    const c = (((spec(d).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    assert.deepEqual(
      (c.env as JsonObject[]).map((e) => e.name),
      ['TOKEN', 'ADDED'],
    );
    assert.deepEqual(
      (c.ports as JsonObject[]).map((p) => p.containerPort),
      [8080, 9090],
    );
    assert.equal(c.image, 'example/web:2.0', 'untouched fields survive the merge');
    assert.deepEqual(c.envFrom, [{ configMapRef: { name: get(ms, 'ConfigMap', 'web-config-').metadata.name } }], 'references follow the merged hash');
  });

  it('deletes resources with $patch: delete', function () {
    write('overlay/kustomization.yaml', 'resources: [../base]\npatches:\n  - path: rm.yaml\n');
    write('overlay/rm.yaml', '$patch: delete\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n');
    const ms = renderKustomization(join(dir, 'overlay'));
    assert.equal(
      ms.find((m) => m.kind === 'Deployment'),
      undefined,
    );
  });

  it('refuses fields outside the subset, files outside the root, unknown patch targets and duplicates', function () {
    write('a/kustomization.yaml', 'resources: []\ncommonLabels: { a: b }\n');
    assert.throws(() => renderKustomization(join(dir, 'a')), /field commonLabels is outside the supported kustomize subset/);
    write('b/kustomization.yaml', 'configMapGenerator:\n  - name: x\n    files: [../base/token.txt]\n');
    assert.throws(() => renderKustomization(join(dir, 'b')), /outside the kustomization directory/);
    write('c/kustomization.yaml', 'resources: [../base]\npatches:\n  - patch: |-\n      apiVersion: v1\n      kind: Service\n      metadata: { name: nope }\n');
    assert.throws(() => renderKustomization(join(dir, 'c')), /no resource Service\/nope to patch/);
    write('d/kustomization.yaml', 'resources: [../base, ../base/deployment.yaml]\n');
    assert.throws(() => renderKustomization(join(dir, 'd')), KustomizeError);
    write('e/kustomization.yaml', 'resources: [../base]\nconfigMapGenerator:\n  - name: web-config\n    literals: [A=1]\n');
    assert.throws(() => renderKustomization(join(dir, 'e')), /already exists/);
    write('f/kustomization.yaml', 'secretGenerator:\n  - name: s\n    envs: [missing.env]\n');
    assert.throws(() => renderKustomization(join(dir, 'f')), /missing\.env does not exist/);
    assert.throws(() => renderKustomization(join(dir, 'nowhere')), /no kustomization\.yaml/);
  });

  it('parses env files strictly', function () {
    assert.deepEqual(parseEnvFile('# c\nA=1\n  \nB=x=y\n', 'f'), [
      ['A', '1'],
      ['B', 'x=y'],
    ]);
    assert.throws(() => parseEnvFile('novalue\n', 'f'), /f:1: expected KEY=VALUE/);
  });
});

describe('deploy strategic merge', function () {
  it('merges maps, deletes on null, replaces atomic lists and merges keyed lists', function () {
    const base: JsonObject = { a: { b: 1, c: 2 }, args: ['x'], volumes: [{ name: 'v', emptyDir: {} }] };
    const out = strategicMerge(base, { a: { c: null, d: 3 }, args: ['y'], volumes: [{ name: 'w', emptyDir: {} }] });
    assert.deepEqual(out, { a: { b: 1, d: 3 }, args: ['y'], volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {} }] });
    assert.deepEqual(base.a, { b: 1, c: 2 }, 'the input is not changed');
  });

  it('keeps UDP and TCP ports with the same number apart and honours $patch directives', function () {
    const base: JsonObject = {
      ports: [
        { containerPort: 5060, protocol: 'UDP' },
        { containerPort: 5060, protocol: 'TCP' },
      ],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      m: { x: 1, y: 2 },
    };
    const out = strategicMerge(base, {
      ports: [{ containerPort: 5060, protocol: 'TCP', name: 'sip-tcp' }],
      env: [{ name: 'A', $patch: 'delete' }],
      m: { $patch: 'replace', z: 3 },
    });
    assert.deepEqual(out.ports, [
      { containerPort: 5060, protocol: 'UDP' },
      { containerPort: 5060, protocol: 'TCP', name: 'sip-tcp' },
    ]);
    assert.deepEqual(out.env, [{ name: 'B', value: '2' }]);
    assert.deepEqual(out.m, { z: 3 });
    assert.throws(() => strategicMerge(base, { m: { $retainKeys: ['x'] } }), /unsupported directive/);
  });
});

describe('deploy JSON 6902 patch', function () {
  const doc: JsonObject = { spec: { list: [1, 2], 'a/b': { '~k': 1 } } };

  it('adds, replaces, removes, moves, copies and tests by JSON pointer', function () {
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/spec/list/-', value: 3 },
      { op: 'add', path: '/spec/list/0', value: 0 },
      { op: 'replace', path: '/spec/a~1b/~0k', value: 2 },
      { op: 'copy', from: '/spec/list', path: '/spec/copy' },
      { op: 'move', from: '/spec/copy', path: '/spec/moved' },
      { op: 'remove', path: '/spec/list/1' },
      { op: 'test', path: '/spec/moved/3', value: 3 },
    ]);
    assert.deepEqual(out, { spec: { list: [0, 2, 3], 'a/b': { '~k': 2 }, moved: [0, 1, 2, 3] } });
    assert.deepEqual(doc.spec, { list: [1, 2], 'a/b': { '~k': 1 } }, 'the input is not changed');
  });

  it('fails on missing paths, bad indexes and failed tests', function () {
    assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/none', value: 1 }]), /does not exist/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/spec/list/2' }]), /out of range/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: '/spec/list/01', value: 1 }]), /bad array index/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'test', path: '/spec/list/0', value: 9 }]), /test \/spec\/list\/0 failed/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: 'spec', value: 1 }]), /must start with/);
  });
});
