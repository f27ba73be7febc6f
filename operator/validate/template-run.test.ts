// The dry run on its own (template-run.int.test.ts compares it with promtool's real expansion).
import { dryRunTemplate } from './template-run.js';

describe('dryRunTemplate', () => {
  it.each([
    ['{{ .Value.foo }}', /can't evaluate field foo/],
    ['{{ if gt $value 10 }}x{{ end }}', /incompatible types for comparison/],
    ['{{ printf $value }}', /expected string; got float64/],
    ['{{ humanize "lots" }}', /strconv\.ParseFloat: parsing "lots"/],
    ['{{ template "nope" }}', /no such template "nope"/],
    ['{{ reReplaceAll "(" "" "x" }}', /error parsing regexp/],
    ['{{ toUpper 3 }}', /expected string; found 3/],
    ['{{ humanize }}', /wrong number of args for humanize: want 1 got 0/],
  ])('finds the runtime error of %s', (template, error) => {
    expect(dryRunTemplate(template).error).toMatch(error);
  });

  it.each([
    '{{ $labels.instance }}',
    '{{ $value | humanize }}',
    '{{ if gt $value 10.0 }}x{{ end }}',
    '{{ range $k, $v := $labels }}{{ $k }}{{ end }}',
    '{{ with $labels.a }}{{ . | toUpper }}{{ end }}',
    '{{ (toTime $value).Format "2006" }}',
  ])('passes %s', (template) => {
    expect(dryRunTemplate(template).error).toBeUndefined();
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
  ])('%s depends on the value: %s', (template, depends) => {
    expect(dryRunTemplate(template).dependsOnValue).toBe(depends);
  });
});
