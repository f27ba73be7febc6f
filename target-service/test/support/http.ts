// Minimal HTTP helpers for tests against servers on 127.0.0.1.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export function baseUrl(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function getText(url: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

/** The value of one sample line (`name{labels} value`) in a Prometheus text exposition, if present. */
export function sampleValue(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
