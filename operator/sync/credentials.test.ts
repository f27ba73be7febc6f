// The Prometheus sidecar with a scrape-credentials directory: the real file writer on temp dirs and
// a scripted reloader (the real Prometheus and API server: test/scrape-auth/operator.int.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/index.js';
import { credentialFilesToKeep, missingCredentialFiles } from './credentials.js';
import type { FileSet } from './files.js';
import { readDirFiles } from './file-writer.js';
import { createSyncMetrics } from './metrics.js';
import type { ReloadOutcome, Reloader } from './reloader.js';
import { Syncer } from './syncer.js';

describe('missingCredentialFiles', () => {
  it('lists the files under the directory the config names and the credentials lack', () => {
    const config = { 'prometheus.yml': 'a: /creds/x__secret__t__token\nb: /creds/y__configmap__ca__ca.crt\nc: /other/z\nd: /creds/x__secret__t__token\n' };
    expect(missingCredentialFiles(config, '/creds', {})).toEqual(['x__secret__t__token', 'y__configmap__ca__ca.crt']);
    expect(missingCredentialFiles(config, '/creds/', { x__secret__t__token: 't' })).toEqual(['y__configmap__ca__ca.crt']);
    expect(missingCredentialFiles({ 'alertmanager.yml': '/creds/a' }, '/creds', {})).toEqual([]);
  });
});

describe('credentialFilesToKeep', () => {
  it('adds the files on disk the running config names, the Secret winning', () => {
    const running = { 'prometheus.yml': 'a: /c/old\nb: /c/both\n' };
    expect(credentialFilesToKeep({ both: 'new', fresh: 'f' }, { old: 'o', both: 'stale', gone: 'g' }, running, '/c')).toEqual({ old: 'o', both: 'new', fresh: 'f' });
    expect(credentialFilesToKeep({ fresh: 'f' }, { old: 'o' }, undefined, '/c')).toEqual({ fresh: 'f' });
  });
});

describe('Syncer with a credentials directory', () => {
  let dir: string;
  let credentialsDir: string;
  let reloads: FileSet[];
  let syncer: Syncer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-credentials-'));
    credentialsDir = join(dir, 'creds');
    reloads = [];
    const reloader: Reloader = {
      reload: async (_kind, files): Promise<ReloadOutcome> => {
        reloads.push(files);
        return { ok: true };
      },
    };
    syncer = new Syncer({
      dir: join(dir, 'config'),
      credentialsDir,
      reloader,
      reporter: { patchAnnotations: async () => undefined, event: async () => undefined },
      metrics: createSyncMetrics({ defaultMetrics: false }),
      log: createLogger('sync-test', 'error'),
      retryDelay: () => 60_000,
    });
    await syncer.init();
  });
  afterEach(async () => {
    await syncer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const settle = async (step: () => void) => {
    step();
    await syncer.idle();
  };

  it('holds a config back until the files it names are written, and rewrites them without a reload', async () => {
    const config = { 'prometheus.yml': `scrape_configs:\n  - job_name: a\n    authorization:\n      credentials_file: ${credentialsDir}/ns__secret__t__token\n` };
    await settle(() => syncer.observe({ files: config, annotations: {} }));
    expect(reloads).toHaveLength(0); // the credentials Secret was not listed yet
    await settle(() => syncer.observeCredentials({}));
    expect(reloads).toHaveLength(0); // listed, but without the file
    await settle(() => syncer.observeCredentials({ ns__secret__t__token: 'one' }));
    expect(reloads).toHaveLength(1);
    expect(await readDirFiles(credentialsDir)).toEqual({ ns__secret__t__token: 'one' });
    await settle(() => syncer.observeCredentials({ ns__secret__t__token: 'two' }));
    expect(await readDirFiles(credentialsDir)).toEqual({ ns__secret__t__token: 'two' });
    expect(reloads).toHaveLength(1);
  });

  it('keeps a file the running config names until a config without it is applied', async () => {
    const names = (file: string) => ({ 'prometheus.yml': `scrape_configs:\n  - job_name: a\n    authorization:\n      credentials_file: ${credentialsDir}/${file}\n` });
    await settle(() => syncer.observeCredentials({ old__secret__t__token: 'one' }));
    await settle(() => syncer.observe({ files: names('old__secret__t__token'), annotations: {} }));
    expect(reloads).toHaveLength(1);
    // The operator drops the old file from its Secret first, then writes the config naming the new one.
    await settle(() => syncer.observeCredentials({ new__secret__t__token: 'two' }));
    expect(await readDirFiles(credentialsDir)).toEqual({ old__secret__t__token: 'one', new__secret__t__token: 'two' });
    await settle(() => syncer.observe({ files: names('new__secret__t__token'), annotations: {} }));
    expect(reloads).toHaveLength(2);
    expect(await readDirFiles(credentialsDir)).toEqual({ new__secret__t__token: 'two' });
  });

  it('a config naming no credential file goes through once the credentials Secret was listed (absent counts as empty)', async () => {
    await settle(() => syncer.observe({ files: { 'prometheus.yml': 'scrape_configs: []\n' }, annotations: {} }));
    expect(reloads).toHaveLength(0);
    await settle(() => syncer.observeCredentials(undefined));
    expect(reloads).toHaveLength(1);
  });
});
