import { knownAlertLabels, labelReferences, substituteKnownLabels } from './alert-labels.js';

const known = knownAlertLabels({ namespace: 'shop', name: 'checkout' }, { name: 'Slow', severity: 'warning', labels: { team: 'payments', owner: '{{ $labels.pod }}' } });

describe('known alert labels', () => {
  it('are the rule name, severity, namespace, vigil_* and the plain rule labels (not template ones)', () => {
    expect(known).toEqual({
      team: 'payments',
      alertname: 'Slow',
      severity: 'warning',
      namespace: 'shop',
      vigil_namespace: 'shop',
      vigil_monitoredservice: 'checkout',
    });
  });

  it.each([
    ['{{ $labels.team }}', '{{ "payments" }}'],
    ['{{ $labels.alertname }} ({{ $labels.severity }})', '{{ "Slow" }} ({{ "warning" }})'],
    ['{{ .Labels.team | toUpper }}', '{{ "payments" | toUpper }}'],
    ['{{ $.Labels.namespace }}', '{{ "shop" }}'],
    ['{{ index $labels "team" }}', '{{ "payments" }}'],
    ['{{ $labels.instance }}', '{{ $labels.instance }}'],
    // Inside with/range, dot is no longer the alert data.
    ['{{ with $labels }}{{ .Labels.team }}{{ end }}', '{{ with $labels }}{{ .Labels.team }}{{ end }}'],
    ['no template', 'no template'],
  ])('substitutes %s', (template, expected) => {
    expect(substituteKnownLabels(template, known)).toBe(expected);
  });

  it('escapes values as Go strings', () => {
    expect(substituteKnownLabels('{{ $labels.t }}', { t: 'a "b" \\ c' })).toBe('{{ "a \\"b\\" \\\\ c" }}');
  });

  it('finds references to given names', () => {
    expect(labelReferences('x {{ $labels.owner }} {{ $labels.team }}', new Set(['owner'])).map((r) => r.name)).toEqual(['owner']);
  });
});
