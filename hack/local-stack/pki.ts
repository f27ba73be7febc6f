// Certificates for a throwaway kube-apiserver, made with openssl: a CA that signs the serving
// certificate and client certificates, an admin client in system:masters, and the key pair that
// signs ServiceAccount tokens. ECDSA P-256 keys keep generation well under a second, so every
// cluster gets fresh ones (no cache to go stale or to share between parallel test workers).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = process.env.OPENSSL ?? 'openssl';

export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** Signs ServiceAccount tokens (--service-account-signing-key-file). */
  serviceAccountKey: string;
  /** Verifies them (--service-account-key-file). */
  serviceAccountPub: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run(OPENSSL, args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

async function ecKey(path: string, cwd: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path], cwd);
}

/** A certificate signed by the CA; `extensions` is an openssl extension section body. */
async function signedCert(cwd: string, name: string, subject: string, extensions: string): Promise<void> {
  await ecKey(`${name}.key`, cwd);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  await writeFile(join(cwd, `${name}.ext`), extensions);
  // A random serial per certificate, not -CAcreateserial: the certificates are signed in parallel and
  // two openssl processes reading and rewriting one ca.srl file raced ("Unable to load number from ca.srl").
  const serial = `0x${randomBytes(16).toString('hex').replace(/^./, '1')}`;
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial, '-days', '30', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`], cwd);
}

/** A CA of its own (ca.crt, ca.key in `dir`), as every PKI here starts. */
async function selfSignedCa(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await ecKey('ca.key', dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=vigil-test-ca',
      '-days',
      '30',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      'ca.crt',
    ],
    dir,
  );
}

/** Paths of a serving certificate for DNS names only (no IP: a client must say which name it expects). */
export interface ServingPki {
  caCert: string;
  cert: string;
  key: string;
}

/** A fresh CA and a serving certificate it signs for `dnsNames`, in `dir` (a scrape target's TLS). */
export async function generateServingPki(dir: string, dnsNames: readonly string[]): Promise<ServingPki> {
  await selfSignedCa(dir);
  const san = dnsNames.map((n) => `DNS:${n}`).join(',');
  await signedCert(dir, 'server', `/CN=${dnsNames[0]}`, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`, ''].join('\n'));
  return { caCert: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

export async function generatePki(dir: string): Promise<ClusterPki> {
  await selfSignedCa(dir);
  await Promise.all([
    signedCert(
      dir,
      'apiserver',
      '/CN=kube-apiserver',
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
        '',
      ].join('\n'),
    ),
    // The organisation is the group: system:masters bypasses RBAC, like kind's and kubeadm's admin.
    signedCert(dir, 'admin', '/O=system:masters/CN=vigil-admin', ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', ''].join('\n')),
    (async () => {
      await ecKey('sa.key', dir);
      await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
    })(),
  ]);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
}
