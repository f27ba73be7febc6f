// Alert templates through Prometheus's own template package (operator/wasm). Each parse error text is
// what `promtool check rules` of the pinned version prints for the same annotation of alert A
// ("annotation "summary": <this>"), checked with ./bin/promtool; template-run.int.test.ts compares
// the expansion with promtool's real one.
import { checkAlertTemplate } from './wasm.js';

const check = (text: string) => checkAlertTemplate(text, { alertName: 'A' });

describe('checkAlertTemplate parses as Prometheus loads a rule', () => {
  it.each([
    'plain text, no actions',
    '{{ $labels.instance }} of {{ $labels.job }} is down',
    '{{ $value | humanizePercentage }}',
    '{{ if gt $value 1.0 }}high{{ else if gt $value 0.5 }}medium{{ else }}low{{ end }}',
    '{{ with $labels.pod }}pod {{ . }}{{ end }}',
    '{{/* a comment */}}',
    '{{- $labels.a -}}',
    '{{ printf "%s: {{ not an action }}" $labels.a }}',
    '{{ $x := 1 }}{{ $x = 2 }}{{ $x }}',
    '{{ define "t" }}x{{ end }}{{ template "t" }}',
    '}} alone is text',
  ])('accepts %s', (text) => {
    expect(check(text).parseError).toBeUndefined();
  });

  it.each([
    ['Instance {{ $labels.instance is down', 'template: __alert_A:1: function "is" not defined'],
    ['{{ printf "%s $value }}', 'template: __alert_A:1: unterminated quoted string'],
    ['{{ if $value }}x', 'template: __alert_A:1: unexpected EOF'],
    ['x{{ end }}', 'template: __alert_A:1: unexpected {{end}}'],
    ['{{ else }}', 'template: __alert_A:1: unexpected {{else}}'],
    ['{{ }}', 'template: __alert_A:1: missing value for command'],
    ['{{ $foo }}', 'template: __alert_A:1: undefined variable "$foo"'],
    ['{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}', 'template: __alert_A:1: undefined variable "$y"'],
    ['{{ humanise $value }}', 'template: __alert_A:1: function "humanise" not defined'],
    ['{{ (len $labels }}', 'template: __alert_A:1: unclosed left paren'],
    ['{{ len $labels) }}', 'template: __alert_A:1: unexpected right paren'],
    ['first line\nsecond {{ $labels.a', 'template: __alert_A:2: unclosed action'],
  ])('refuses %j as promtool does', (text, error) => {
    expect(check(text).parseError).toBe(error);
  });

  it('never throws on hostile input', () => {
    for (const text of ['{{'.repeat(5000), '{{ "'.repeat(1000), `${'{{ ('.repeat(2000)}}}`, '\u0000{{\u0000}}']) {
      expect(check(text).parseError).toBeDefined();
    }
  });
});

describe('checkAlertTemplate expands as Prometheus does when the alert fires', () => {
  it.each([
    ['{{ .Value.foo }}', /can't evaluate field foo/],
    ['{{ if gt $value 10 }}x{{ end }}', /incompatible types for comparison/],
    ['{{ printf $value }}', /expected string; found float64|wrong type for value; expected string; got float64/],
    ['{{ humanize "lots" }}', /strconv\.ParseFloat: parsing "lots"/],
    ['{{ template "nope" }}', /template "nope" not defined/],
    ['{{ reReplaceAll "(" "" "x" }}', /error parsing regexp/],
    ['{{ toUpper 3 }}', /expected string; found 3/],
    ['{{ humanize }}', /wrong number of args for humanize: want 1 got 0/],
    ['{{ with $labels.job }}{{ .Length }}{{ end }}', /can't evaluate field Length in type string/],
  ])('finds the runtime error of %s', (text, error) => {
    expect(check(text).expandError).toMatch(error);
  });

  it.each([
    '{{ $labels.instance }}',
    '{{ $value | humanize }}',
    '{{ if gt $value 10.0 }}x{{ end }}',
    '{{ range $k, $v := $labels }}{{ $k }}{{ end }}',
    '{{ with $labels.a }}{{ . | toUpper }}{{ end }}',
    '{{ (toTime $value).Format "2006" }}',
  ])('passes %s', (text) => {
    expect(check(text).expandError).toBeUndefined();
  });

  it.each([
    ['{{ $value }}', true],
    ['{{ .Value }}', true],
    ['{{ $.Value }}', true],
    ['{{ humanize $value }}', true],
    ['{{ printf "%.1f" $value }}', true],
    ['{{ $v := $value }}{{ $v }}', true],
    ['{{ if gt $value 1.0 }}high{{ end }}', true],
    ['{{ . }}', true],
    ['{{ $labels.instance }}', false],
    ['{{ $v := $value }}fixed', false],
    ['{{ $labels.job | toUpper }}-{{ len $labels }}', false],
  ])('%s depends on the value: %s', (text, depends) => {
    expect(check(text).dependsOnValue).toBe(depends);
  });

  it.each([
    ['{{ range 3000000 }}' + 'x'.repeat(100) + '{{ end }}', /\{\{ range 3000000 \}\} repeats its body/],
    ['{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}', /range 100000/],
    ['{{ $n := 100000 }}{{ range $n }}x{{ end }}', /range \$n/],
    ['{{ range $i := 5 }}{{ $i }}{{ end }}', /range \$i := 5/],
    [`{{ range len "${'n'.repeat(1000)}" }}{{ range len "${'n'.repeat(1000)}" }}{{ range len "${'n'.repeat(1000)}" }}{{ end }}{{ end }}{{ end }}`, /repeats its body/],
    ['{{ $n := len $labels }}{{ range $n }}x{{ end }}', /range \$n/],
    ['{{ range $labels | len }}x{{ end }}', /repeats its body/],
    ['{{ printf "%0999999d" 1 }}', /pads to 999999 characters; widths and precisions up to 100/],
    ['{{ printf "%.200f" $value }}', /pads to 200 characters/],
    ['{{ printf "%*d" 1000000 1 }}', /takes its width or precision from an argument/],
    [`{{ $labels.a }}{{ range $k, $v := $labels }}${'y'.repeat(70000)}{{ end }}`, /expands to \(or builds a value of\) more than 64 KiB/],
    // Values built in variables are never written, yet would take gigabytes.
    [`{{ $a := "${'z'.repeat(100)}" }}${'{{ $a = printf "%s%s%s%s%s%s%s%s%s%s" $a $a $a $a $a $a $a $a $a $a }}'.repeat(8)}{{ len $a }}`, /more than 64 KiB/],
    [`{{ $a := reReplaceAll "" "${'w'.repeat(1000)}" "${'v'.repeat(1000)}" }}{{ len $a }}`, /more than 64 KiB/],
    ['{{ $a := "xxxxxxxxxx" }}{{ $a = html (printf "%s<%s>" $a $a) }}'.repeat(1) + '{{ $a = html (printf "%s<%s>" $a $a) }}'.repeat(30), /more than 64 KiB/],
  ])('refuses case %# as too costly to expand, before or while expanding', (text, error) => {
    const started = Date.now();
    const result = check(text);
    expect(result.costError).toMatch(error);
    expect(result.expandError).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000); // generous: it must stop, not expand megabytes
  });

  it.each([
    '{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}',
    '{{ printf "%-20s %8.2f" $labels.instance $value }}',
    '{{ $value | printf "%.3f" }} is 100% of {{ $labels.job }}',
    '{{ reReplaceAll "(.*):.*" "$1" $labels.instance }} {{ $labels.job | html }} {{ print "a" 1 }} {{ println "b" }} {{ js "c" }} {{ urlquery "d e" }}',
    'x'.repeat(60000),
  ])('accepts case %# as cheap to expand', (text) => {
    const result = check(text.length > 200 ? `{{ $labels.a }}${text}` : text);
    expect(result.costError).toBeUndefined();
    expect(result.expandError).toBeUndefined();
  });

  it('expands with the labels Vigil knows at render time', () => {
    expect(checkAlertTemplate('{{ $labels.team | humanize }}', { alertName: 'A', labels: { team: 'payments' } }).expandError).toMatch(/parsing "payments"/);
  });

  it('lists the functions a template calls, so the query function can be refused, and does not run query', () => {
    const result = check('{{ range query "up" }}{{ .Labels.job }}{{ end }} {{ $value | humanize }}');
    expect(result.functions).toEqual(expect.arrayContaining(['query', 'humanize']));
    expect(result.expandError).toBeUndefined();
  });
});
