import { KubeConfig, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { makeClients, shareConnections } from './client.js';

function kubeConfig(caData: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData, skipTLSVerify: false }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<{ context: RequestContext; dispatcher: unknown }> {
  const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return { context, dispatcher: context.getDispatcher() };
}

describe('shareConnections', () => {
  it('gives every request of one KubeConfig the same dispatcher (one connection pool), headers still per request', async () => {
    const kc = shareConnections(kubeConfig(Buffer.from('ca-one').toString('base64')));
    const a = await dispatcherOf(kc);
    const b = await dispatcherOf(kc);
    expect(a.dispatcher).toBeDefined();
    expect(b.dispatcher).toBe(a.dispatcher);
    expect(b.context.getHeaders().Authorization).toBe('Bearer secret-token');
    // Idempotent, and makeClients applies it too.
    expect(shareConnections(kc)).toBe(kc);
    makeClients(kc);
    expect((await dispatcherOf(kc)).dispatcher).toBe(a.dispatcher);
  });

  it('builds a new dispatcher when the TLS setup changes, and closes the old one', async () => {
    const kc = shareConnections(kubeConfig(Buffer.from('ca-one').toString('base64')));
    const first = (await dispatcherOf(kc)).dispatcher as { closed: boolean };
    expect(first.closed).toBe(false);
    kc.clusters[0] = { ...kc.clusters[0]!, caData: Buffer.from('ca-two').toString('base64') };
    const second = (await dispatcherOf(kc)).dispatcher;
    expect(second).not.toBe(first);
    expect(first.closed).toBe(true);
    expect((await dispatcherOf(kc)).dispatcher).toBe(second);
  });

  it('without it, client-node builds a dispatcher per request (why it exists)', async () => {
    const kc = kubeConfig(Buffer.from('ca-one').toString('base64'));
    expect((await dispatcherOf(kc)).dispatcher).not.toBe((await dispatcherOf(kc)).dispatcher);
  });
});
