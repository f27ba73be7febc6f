// The labels of vigil_monitoredservice_scrape_error_info (scrape-error-metric.ts).
import { MAX_ERROR_LABEL_CHARS, scrapeErrorLabels } from './scrape-error-metric.js';

const failure = (error: string, reason = 'TLSError', targets = 1) => ({ reason, error, targets, instance: '10.0.0.7:8443' });

describe('scrapeErrorLabels', () => {
  it('no series without a failing target', () => {
    expect(scrapeErrorLabels(undefined)).toBeUndefined();
    expect(scrapeErrorLabels({ discovered: 2, healthy: 2 })).toBeUndefined();
    expect(scrapeErrorLabels({ discovered: 1, healthy: 0, notScraped: 1 })).toBeUndefined();
    expect(scrapeErrorLabels({ discovered: 1, healthy: 0, failures: [] })).toBeUndefined();
  });

  it("the most common error's reason; up to three distinct errors in their order", () => {
    const x509 = 'Get "https://10.0.0.7:8443/metrics": tls: failed to verify certificate: x509: certificate signed by unknown authority';
    const labels = scrapeErrorLabels({
      discovered: 9,
      healthy: 1,
      failures: [
        failure(x509, 'TLSError', 5),
        failure('server returned HTTP status 404 Not Found', 'HTTPErrorStatus', 2),
        failure('context deadline exceeded', 'ScrapeTimeout'),
        failure('connection refused', 'ConnectionRefused'),
      ],
    });
    expect(labels).toEqual({ reason: 'TLSError', error: `${x509}; server returned HTTP status 404 Not Found; context deadline exceeded` });
  });

  it("the same label every poll: the local end's ephemeral port of a Go network error is masked, the remote end stays", () => {
    const poll = (localPort: number) =>
      scrapeErrorLabels({
        discovered: 2,
        healthy: 0,
        failures: [
          failure(`Get "http://10.0.0.2:8080/metrics": read tcp 10.0.0.1:${localPort}->10.0.0.2:8080: read: connection reset by peer`, 'NoHealthyTargets'),
          failure(`Get "http://api.shop:8080/metrics": dial tcp: lookup api.shop on 10.96.0.10:53: read udp 10.244.1.3:${localPort}->10.96.0.10:53: i/o timeout`, 'ScrapeTimeout'),
          failure(`read tcp [fd00::1]:${localPort}->[fd00::2]:8080: i/o timeout`, 'ScrapeTimeout'),
        ],
      })?.error;
    expect(poll(54321)).toBe(
      'Get "http://10.0.0.2:8080/metrics": read tcp <local>->10.0.0.2:8080: read: connection reset by peer; ' +
        'Get "http://api.shop:8080/metrics": dial tcp: lookup api.shop on 10.96.0.10:53: read udp <local>->10.96.0.10:53: i/o timeout; ' +
        'read tcp <local>->[fd00::2]:8080: i/o timeout',
    );
    expect(poll(39614)).toBe(poll(54321));
  });

  it('one line: newlines and runs of spaces become one space', () => {
    expect(scrapeErrorLabels({ discovered: 1, healthy: 0, failures: [failure('line one\n\tline  two ')] })?.error).toBe('line one line two');
  });

  it('keeps template actions as text (the alert template prints the label as data)', () => {
    expect(scrapeErrorLabels({ discovered: 1, healthy: 0, failures: [failure('server returned HTTP status 404 {{ $labels.job }}', 'HTTPErrorStatus')] })).toEqual({
      reason: 'HTTPErrorStatus',
      error: 'server returned HTTP status 404 {{ $labels.job }}',
    });
  });

  it(`cuts at ${MAX_ERROR_LABEL_CHARS} code points with an ellipsis, never inside a surrogate pair`, () => {
    const long = `${'a'.repeat(MAX_ERROR_LABEL_CHARS - 2)}😀😀😀`;
    const error = scrapeErrorLabels({ discovered: 1, healthy: 0, failures: [failure(long)] })!.error;
    expect(Array.from(error)).toHaveLength(MAX_ERROR_LABEL_CHARS);
    expect(error).toBe(`${'a'.repeat(MAX_ERROR_LABEL_CHARS - 2)}😀…`);
    const exact = 'b'.repeat(MAX_ERROR_LABEL_CHARS);
    expect(scrapeErrorLabels({ discovered: 1, healthy: 0, failures: [failure(exact)] })!.error).toBe(exact);
  });
});
