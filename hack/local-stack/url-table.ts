// The table `make local-up` prints: every service of the stack with its URL, as a Markdown table
// whose rows are closed by | like the README's.
import type { Stack } from './stack.js';

export function urlTable(stack: Pick<Stack, 'urls' | 'ports'>): string {
  const rows: [string, string, string][] = [
    ['Prometheus', stack.urls.prometheus, 'targets, rules, alerts, graphs'],
    ['Alertmanager', stack.urls.alertmanager, 'alerts, silences'],
    ['Mail UI (Mailpit)', stack.urls.mailUi, `the alert emails (SMTP 127.0.0.1:${stack.ports.mailpitSmtp}, implicit TLS via stunnel on 127.0.0.1:${stack.ports.smtps})`],
    ['Demo target', `${stack.urls.target}/metrics`, 'the monitored service'],
    ['Kubernetes API', stack.urls.apiServer, 'kubectl with the kubeconfig below'],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length), 'Service'.length);
  const w1 = Math.max(...rows.map((r) => r[1].length), 'URL'.length);
  const w2 = Math.max(...rows.map((r) => r[2].length), 'What'.length);
  const line = (a: string, b: string, c: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padEnd(w2)} |`;
  return [line('Service', 'URL', 'What'), `|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 2)}|${'-'.repeat(w2 + 2)}|`, ...rows.map((r) => line(...r))].join('\n');
}
