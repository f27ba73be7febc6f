// alertmanager.yml: SMTP settings, one route + email receiver per distinct recipient set (the
// services' alerts carry the receiver's name in LABEL_RECEIVER), and the cluster-wide default
// receiver for services without recipients.
//
// Why a label and not a route per service: Alertmanager keys its notification log by receiver and
// group key, and the group key starts with the matchers of the route path (dispatch/route.go
// Route.Key, nflog stateKey). A route that matches only `vigil_receiver="<name>"` keeps its key
// while services join or leave the set, so no other alert is notified again; and the config grows
// with recipient sets, not with services. Each service's alerts still form their own groups (GROUP_BY).
import { posix } from 'node:path';
import { stringify } from 'yaml';
import type { MonitoredService } from '../api/schema.js';
import {
  compareStrings,
  DEFAULT_RECEIVER,
  EMAIL_TEMPLATE_FILE,
  LABEL_MONITORED_SERVICE,
  LABEL_NAMESPACE,
  LABEL_RECEIVER,
  recipientSetReceiver,
  SERVICE_DOWN_ALERT,
  sortServices,
  TARGET_DOWN_ALERT,
  UNOWNED_RECEIVER,
} from './names.js';
import { YAML_OPTIONS } from './prometheus.js';
import { LABEL_TEST_TOKEN } from './test-email.js';
import { watchdogReceiver, watchdogRoute } from './watchdog.js';
import type { GlobalSettings, NotificationProfile } from './types.js';
import { placeholder, splicedOrThrow, stringifyItems } from './yaml-fragments.js';

/** Alerts of one service and one alert name share an email thread; each test email (test-email.ts) is its own. */
export const GROUP_BY = ['alertname', LABEL_NAMESPACE, LABEL_MONITORED_SERVICE, LABEL_TEST_TOKEN];

/**
 * demo: like the original compose stack, the first email leaves as soon as Alertmanager has the
 * alert (group_wait 0s) and changes follow within a second; repeat_interval is 1h (the stack had
 * 60s) so that a test, or a person watching the mail catcher, sees exactly one email per firing
 * alert and then its resolution, not a reminder every minute.
 * production: Alertmanager's usual batching, with a reminder every 4h while an alert fires.
 */
export const NOTIFICATION_TIMINGS: Record<NotificationProfile, { group_wait: string; group_interval: string; repeat_interval: string }> = {
  demo: { group_wait: '0s', group_interval: '1s', repeat_interval: '1h' },
  production: { group_wait: '30s', group_interval: '5m', repeat_interval: '4h' },
};

export function renderAlertmanagerConfig(services: readonly MonitoredService[], settings: GlobalSettings): string {
  const sorted = sortServices(services);
  return assembleAlertmanagerConfig(
    sorted.map((service) => renderRouteText(service)),
    sorted.map((service) => renderReceiverText(service, settings)),
    settings,
  );
}

function hasRecipients(service: MonitoredService): boolean {
  return (service.spec.notify?.email?.to.length ?? 0) > 0;
}

/**
 * The route of the service's receiver as the text of one block-sequence item (yaml-fragments.ts);
 * every service has one, the same text for every service of the same recipient set.
 */
export function renderRouteText(service: MonitoredService): string {
  return stringifyItems([receiverRoute(routeReceiver(service))], YAML_OPTIONS);
}

/** The email receiver of the service's recipient set as the text of one block-sequence item; '' without recipients. */
export function renderReceiverText(service: MonitoredService, settings: GlobalSettings): string {
  return hasRecipients(service) ? stringifyItems([recipientSetReceiverConfig(service, settings)], YAML_OPTIONS) : '';
}

/**
 * Each distinct (route, receiver) pair of the services' texts once, ordered by the route text
 * (which starts with the receiver's name): services that share a recipient set share both texts.
 * Shape: the indices into the given arrays of the pairs kept.
 */
export function distinctReceiverIndices(routeTexts: readonly string[]): number[] {
  const first = new Map<string, number>();
  routeTexts.forEach((text, i) => {
    if (!first.has(text)) first.set(text, i);
  });
  return [...first.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, i]) => i);
}

/**
 * alertmanager.yml from every service's renderRouteText and renderReceiverText (any order), each
 * distinct pair once (distinctReceiverIndices): byte-identical to stringifying the whole document
 * (yaml-fragments.ts). `skeleton`: alertmanagerSkeleton of the same, when at hand.
 */
export function assembleAlertmanagerConfig(
  routeTexts: readonly string[],
  receiverTexts: readonly string[],
  settings: GlobalSettings,
  skeleton = alertmanagerSkeleton(
    routeTexts.some((t) => t !== ''),
    receiverTexts.some((t) => t !== ''),
    settings,
  ),
): string {
  const kept = distinctReceiverIndices(routeTexts);
  return splicedOrThrow(skeleton, [kept.map((i) => routeTexts[i]!), kept.map((i) => receiverTexts[i]!)], 'alertmanager.yml');
}

/** alertmanager.yml with a placeholder item (yaml-fragments.ts) where the services' routes go and one where their receivers go. */
export function alertmanagerSkeleton(hasRoutes: boolean, hasReceivers: boolean, settings: GlobalSettings): string {
  return stringify(alertmanagerDocument(hasRoutes ? [placeholder(0)] : [], hasReceivers ? [placeholder(1)] : [], settings), YAML_OPTIONS);
}

function alertmanagerDocument(routes: unknown[], receivers: unknown[], settings: GlobalSettings): Record<string, unknown> {
  return {
    global: smtpGlobals(settings),
    templates: [posix.join(settings.alertmanagerTemplatesDir ?? '.', EMAIL_TEMPLATE_FILE)],
    route: {
      receiver: DEFAULT_RECEIVER,
      group_by: GROUP_BY,
      ...NOTIFICATION_TIMINGS[settings.profile],
      routes: [watchdogRoute(settings), ...routes, unownedRoute()],
    },
    // A service with no healthy target is one email (ServiceDown), not one more per failing instance.
    inhibit_rules: [
      {
        source_matchers: [`alertname=${JSON.stringify(SERVICE_DOWN_ALERT)}`],
        target_matchers: [`alertname=${JSON.stringify(TARGET_DOWN_ALERT)}`],
        equal: [LABEL_NAMESPACE, LABEL_MONITORED_SERVICE],
      },
    ],
    receivers: [
      // Without default recipients the default receiver has no email config: Alertmanager drops those alerts.
      {
        name: DEFAULT_RECEIVER,
        ...(settings.defaultRecipients.length > 0 ? { email_configs: emailConfigs(settings.defaultRecipients, true, settings) } : {}),
      },
      watchdogReceiver(settings),
      ...receivers,
      // No integration: what reaches it is dropped (Alertmanager's documented "null receiver").
      { name: UNOWNED_RECEIVER },
    ],
  };
}

/**
 * Alerts that carry a MonitoredService's labels but match no receiver route: their receiver is
 * not in the config (the service's recipient set left with it when it was deleted, renamed or
 * left out, or its new set is not applied yet), or they come from an older operator without
 * LABEL_RECEIVER. Alertmanager keeps an alert active until the endsAt Prometheus last sent (up
 * to 4 evaluation intervals, or minutes with the 1m resend delay), and on every reload routes all
 * alerts it holds through the new tree: without this route such an alert fell through to the root
 * route and emailed the default recipients, its RESOLVED too (issue #14). An inhibit rule cannot
 * do this (it needs a firing source alert); a route to a receiver without integrations drops them.
 */
function unownedRoute(): Record<string, unknown> {
  return { receiver: UNOWNED_RECEIVER, matchers: [`${LABEL_MONITORED_SERVICE}=~".+"`], continue: false };
}

/** The receiver a service's alerts go to (LABEL_RECEIVER): its recipient set's, or the default one when it names no recipients. */
export function routeReceiver(service: { spec: Pick<MonitoredService['spec'], 'notify'> }): string {
  return recipientSetReceiver(service.spec.notify?.email);
}

/** The route of one receiver: the alerts that name it, whatever their service. */
function receiverRoute(receiver: string): Record<string, unknown> {
  return {
    receiver,
    matchers: [`${LABEL_RECEIVER}=${JSON.stringify(receiver)}`],
    continue: false,
  };
}

function recipientSetReceiverConfig(service: MonitoredService, settings: GlobalSettings): Record<string, unknown> {
  const email = service.spec.notify!.email!;
  return {
    name: recipientSetReceiver(email),
    email_configs: emailConfigs(email.to, email.sendResolved, settings),
  };
}

function smtpGlobals(settings: GlobalSettings): Record<string, unknown> {
  const smtp = settings.smtp;
  return {
    smtp_smarthost: smtp.smarthost,
    smtp_from: smtp.from,
    ...(smtp.hello ? { smtp_hello: smtp.hello } : {}),
    ...(smtp.authUsername ? { smtp_auth_username: smtp.authUsername } : {}),
    // Alertmanager can read the password from a file (a mounted Secret); an inline password
    // is why alertmanager.yml lives in a Secret, not a ConfigMap.
    ...(smtp.authPasswordFile ? { smtp_auth_password_file: smtp.authPasswordFile } : smtp.authPassword ? { smtp_auth_password: smtp.authPassword } : {}),
    smtp_require_tls: smtp.requireTls,
    // Implicit TLS whatever the port (Alertmanager >= 0.31); left out, Alertmanager decides by
    // the port (465 = implicit TLS), which is its default.
    ...(smtp.forceImplicitTls !== undefined ? { smtp_force_implicit_tls: smtp.forceImplicitTls } : {}),
  };
}

/** RFC 5322 section 2.1.1: a header line must not exceed 998 characters (without CRLF). */
export const MAX_HEADER_LINE = 998;

/**
 * Recipients in groups whose `To: a, b, ...` header line stays within MAX_HEADER_LINE, in the given
 * order, each recipient in exactly one group. Alertmanager writes the `to` string unfolded into the
 * To header (and Q-encodes, not folds, a value with a line break), so a long list must be split:
 * one email_config, hence one email, per group. 100 addresses of 60 characters make 7 groups.
 */
export function recipientGroups(to: readonly string[], maxLine = MAX_HEADER_LINE): string[][] {
  const groups: string[][] = [];
  let length = 0;
  for (const address of to) {
    const group = groups[groups.length - 1];
    const added = (group && group.length > 0 ? ', '.length : 'To: '.length) + address.length;
    if (group && group.length > 0 && length + added <= maxLine) {
      group.push(address);
      length += added;
    } else {
      groups.push([address]);
      length = 'To: '.length + address.length;
    }
  }
  return groups;
}

function emailConfigs(to: readonly string[], sendResolved: boolean, settings: GlobalSettings): Record<string, unknown>[] {
  return recipientGroups(to).map((group) => emailConfig(group, sendResolved, settings));
}

function emailConfig(to: readonly string[], sendResolved: boolean, settings: GlobalSettings): Record<string, unknown> {
  const smtp = settings.smtp;
  const tls = {
    ...(smtp.tlsCaFile ? { ca_file: smtp.tlsCaFile } : {}),
    ...(smtp.tlsServerName ? { server_name: smtp.tlsServerName } : {}),
    ...(smtp.tlsInsecureSkipVerify ? { insecure_skip_verify: true } : {}),
  };
  return {
    to: to.join(', '),
    send_resolved: sendResolved,
    headers: { Subject: '{{ template "vigil.email.subject" . }}' },
    html: '{{ template "vigil.email.html" . }}',
    text: '{{ template "vigil.email.text" . }}',
    ...(Object.keys(tls).length > 0 ? { tls_config: tls } : {}),
  };
}
