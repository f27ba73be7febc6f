// The test mail catcher (Mailpit by default, MailHog as an option) behind stunnel. Alertmanager
// before 0.31 speaks implicit TLS only to port 465 (see DESIGN.md), so the Service port is 465; the
// catcher itself only speaks plain SMTP on 127.0.0.1:1025 inside the pod, reachable only via stunnel.
// The TLS key and certificate are created at install time (Helm genSelfSignedCert, kept across
// upgrades with lookup), never committed or baked into an image; Alertmanager trusts that certificate.
import { Construct } from 'constructs';
import { kubeObject, type Flag, type RenderContext } from '../context.js';
import {
  configMap,
  container,
  exposedService,
  httpProbe,
  labels,
  podMetadata,
  podSpec,
  selectorLabels,
  type ImageRef,
  type Json,
  type Resources,
  type Scheduling,
  type ServiceExposure,
} from './common.js';

export const MAIL_CATCHER_NAME = 'vigil-mail-catcher';
export const MAIL_CATCHER_TLS_SECRET = `${MAIL_CATCHER_NAME}-tls`;
/** The port Alertmanager connects to (implicit TLS); the Service maps it to stunnel's unprivileged port. */
export const SMTPS_SERVICE_PORT = 465;
/** stunnel cannot bind 465 without NET_BIND_SERVICE, which the restricted profile drops. */
export const STUNNEL_PORT = 10465;

/**
 * Probe that stunnel listens on `port` without connecting to it: a TCP probe opens and drops a connection without
 * a TLS handshake, which stunnel logs as an error (`SSL_accept: ... unexpected eof`) 16 times a minute (issue #9).
 * Reads the kernel's socket table instead: a line `<sl>: 00000000:<PORT hex> 00000000:0000 0A` is a listener on
 * 0.0.0.0 (state 0A = LISTEN). `grep` is in the stunnel image (Debian).
 */
export function listeningProbe(port: number, periodSeconds: number): Json {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return { exec: { command: ['grep', '-q', `^ *[0-9]*: 00000000:${hexPort} 00000000:0000 0A `, '/proc/net/tcp'] }, periodSeconds };
}
export const CATCHER_SMTP_PORT = 1025;
export const CATCHER_UI_PORT = 8025;

export const STUNNEL_CONFIG = [
  '; TLS on the smtps port, plain SMTP to the mail catcher in the same pod.',
  'foreground = yes',
  'pid =',
  'debug = notice',
  '',
  '[smtps]',
  `accept = 0.0.0.0:${STUNNEL_PORT}`,
  `connect = 127.0.0.1:${CATCHER_SMTP_PORT}`,
  'cert = /etc/stunnel/tls/tls.crt',
  'key = /etc/stunnel/tls/tls.key',
  '',
].join('\n');

/** Placeholder of the concrete (non-Helm) rendering: the real pair only exists once installed. */
export const TLS_PLACEHOLDER = Buffer.from('generated at install time by the Helm chart').toString('base64');

export interface MailCatcherProps {
  ctx: RenderContext;
  /** Holds for Mailpit, fails for MailHog. */
  isMailpit: Flag;
  mailpitImage: ImageRef;
  mailhogImage: ImageRef;
  stunnelImage: ImageRef;
  service: ServiceExposure;
  resources: Resources;
  scheduling: Scheduling;
}

/** What Alertmanager needs to trust the catcher's certificate: a volume and where it is mounted. */
export const MAIL_CATCHER_CA = {
  file: '/etc/vigil/smtp-ca/tls.crt',
  serverName: MAIL_CATCHER_NAME,
  smarthost: `${MAIL_CATCHER_NAME}:${SMTPS_SERVICE_PORT}`,
  volume: { name: 'smtp-ca', secret: { secretName: MAIL_CATCHER_TLS_SECRET, items: [{ key: 'tls.crt', path: 'tls.crt' }] } },
  mount: { name: 'smtp-ca', mountPath: '/etc/vigil/smtp-ca', readOnly: true },
};

export class MailCatcher extends Construct {
  constructor(scope: Construct, id: string, props: MailCatcherProps) {
    super(scope, id);
    const { ctx } = props;
    const name = MAIL_CATCHER_NAME;

    // Kept across upgrades (lookup of the existing Secret), else generated once at install.
    const tlsData = ctx.block(
      (i) =>
        [
          `{{- $existing := lookup "v1" "Secret" (include "vigil.namespace" $) "${MAIL_CATCHER_TLS_SECRET}" }}`,
          '{{- if and $existing $existing.data }}',
          `{{- toYaml $existing.data | nindent ${i} }}`,
          '{{- else }}',
          `{{- $cert := genSelfSignedCert "${name}" nil (list "${name}" (printf "${name}.%s.svc" (include "vigil.namespace" $))) 3650 }}`,
          'tls.crt: {{ $cert.Cert | b64enc | quote }}',
          'tls.key: {{ $cert.Key | b64enc | quote }}',
          '{{- end }}',
        ].map((l) => ' '.repeat(i) + l),
      { 'tls.crt': TLS_PLACEHOLDER, 'tls.key': TLS_PLACEHOLDER },
    );
    kubeObject(this, ctx, 'tls', 'v1', 'Secret', { name: MAIL_CATCHER_TLS_SECRET, labels: labels(name) }, { type: 'kubernetes.io/tls', data: tlsData });
    configMap(this, ctx, 'stunnel-config', { name: `${name}-stunnel`, labels: labels(name) }, { 'stunnel.conf': STUNNEL_CONFIG });

    const uiPort = { name: 'http-ui', containerPort: CATCHER_UI_PORT };
    const mailpit = container({
      name: 'mail-catcher',
      image: props.mailpitImage,
      args: ['--smtp', `127.0.0.1:${CATCHER_SMTP_PORT}`, '--listen', `0.0.0.0:${CATCHER_UI_PORT}`],
      ports: [uiPort],
      // Mailpit keeps its database in the temp dir.
      env: [{ name: 'TMPDIR', value: '/tmp' }],
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: props.resources,
      readinessProbe: httpProbe('/readyz', 'http-ui', 5),
      livenessProbe: httpProbe('/livez', 'http-ui', 15),
    });
    const mailhog = container({
      name: 'mail-catcher',
      image: props.mailhogImage,
      args: ['-smtp-bind-addr', `127.0.0.1:${CATCHER_SMTP_PORT}`, '-ui-bind-addr', `0.0.0.0:${CATCHER_UI_PORT}`, '-api-bind-addr', `0.0.0.0:${CATCHER_UI_PORT}`],
      ports: [uiPort],
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: props.resources,
      readinessProbe: httpProbe('/api/v2/messages?limit=1', 'http-ui', 5),
      livenessProbe: httpProbe('/api/v2/messages?limit=1', 'http-ui', 15),
    });
    const stunnel = container({
      name: 'stunnel',
      image: props.stunnelImage,
      args: ['/etc/stunnel/conf/stunnel.conf'],
      ports: [{ name: 'smtps', containerPort: STUNNEL_PORT }],
      volumeMounts: [
        { name: 'stunnel-config', mountPath: '/etc/stunnel/conf', readOnly: true },
        { name: 'tls', mountPath: '/etc/stunnel/tls', readOnly: true },
      ],
      resources: props.resources,
      readinessProbe: listeningProbe(STUNNEL_PORT, 5),
      livenessProbe: listeningProbe(STUNNEL_PORT, 15),
    });

    const volumes: Json[] = [
      { name: 'tmp', emptyDir: {} },
      { name: 'stunnel-config', configMap: { name: `${name}-stunnel` } },
      // Group-readable for fsGroup 65534 only: stunnel warns about world-readable keys.
      { name: 'tls', secret: { secretName: MAIL_CATCHER_TLS_SECRET, defaultMode: 0o440 } },
    ];
    kubeObject(
      this,
      ctx,
      'deployment',
      'apps/v1',
      'Deployment',
      { name, labels: labels(name) },
      {
        spec: {
          replicas: 1,
          // Mails live in the pod: one instance, replaced rather than rolled.
          strategy: { type: 'Recreate' },
          selector: { matchLabels: selectorLabels(name) },
          template: {
            metadata: podMetadata(props.scheduling, name),
            spec: podSpec(props.scheduling, {
              automountServiceAccountToken: false,
              containers: [ctx.choose(props.isMailpit, mailpit, mailhog), stunnel],
              volumes,
            }),
          },
        },
      },
    );

    exposedService(
      this,
      ctx,
      'service',
      name,
      name,
      props.service,
      [
        { name: 'smtps', port: SMTPS_SERVICE_PORT, targetPort: 'smtps', protocol: 'TCP' },
        { name: 'http-ui', port: CATCHER_UI_PORT, targetPort: 'http-ui', protocol: 'TCP' },
      ],
      'http-ui',
    );
  }
}
