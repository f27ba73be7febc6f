import { checkGoTemplate } from './template.js';

const error = (t: string) => {
  const r = checkGoTemplate(t);
  if (r.ok) throw new Error(`expected rejection of ${t}`);
  return r.message;
};

describe('checkGoTemplate', () => {
  it.each([
    'plain text, no actions',
    '{{ $labels.instance }} of {{ $labels.job }} is down',
    '{{ $value | humanizePercentage }}',
    '{{ if gt $value 1.0 }}high{{ else if gt $value 0.5 }}medium{{ else }}low{{ end }}',
    '{{ range $i, $v := query "up" }}{{ $v.Labels.job }}{{ end }}',
    '{{ with $labels.pod }}pod {{ . }}{{ end }}',
    '{{/* a comment */}}',
    '{{- $labels.a -}}',
    '{{ printf "%s: {{ not an action }}" $labels.a }}',
    '{{ $x := 1 }}{{ $x = 2 }}{{ $x }}',
    '{{ define "t" }}x{{ end }}{{ template "t" }}',
    '}} alone is text',
  ])('accepts %s', (t) => {
    expect(checkGoTemplate(t)).toEqual({ ok: true });
  });

  it('rejects an unclosed action, naming where it starts', () => {
    expect(error('Instance {{ $labels.instance is down')).toBe('template error at line 1, column 10 in "{{ $labels.instance is down": unclosed action: no matching }}');
  });
  it('rejects an unterminated string', () => {
    expect(error('{{ printf "%s $value }}')).toBe('template error at line 1, column 1 in "{{ printf "%s $value }}": unterminated quoted string');
  });
  it('rejects an if without end', () => {
    expect(error('{{ if $value }}x')).toBe('template error: {{if}} is never closed: add {{end}}');
  });
  it('rejects an end without opener', () => {
    expect(error('x{{ end }}')).toBe('template error at line 1, column 2 in "{{ end }}": {{end}} without a matching if, range, with, define or block');
  });
  it('rejects else outside if/range/with', () => {
    expect(error('{{ else }}')).toMatch(/\{\{else\}\} outside of if, range or with$/);
  });
  it('rejects an empty action', () => {
    expect(error('{{ }}')).toMatch(/missing value for command$/);
  });
  it('rejects undefined variables, also outside the block that declared them', () => {
    expect(error('{{ $foo }}')).toMatch(/undefined variable "\$foo"$/);
    expect(error('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}')).toMatch(/undefined variable "\$y"$/);
  });
  it('rejects unknown functions', () => {
    expect(error('{{ humanise $value }}')).toMatch(/function "humanise" not defined$/);
  });
  it('rejects unbalanced parentheses', () => {
    expect(error('{{ (len $labels }}')).toMatch(/unclosed left parenthesis$/);
    expect(error('{{ len $labels) }}')).toMatch(/unexpected right parenthesis$/);
  });
  it('reports the line of a multi-line template', () => {
    expect(error('first line\nsecond {{ $labels.a')).toMatch(/^template error at line 2, column 8 /);
  });
  it('never throws on hostile input', () => {
    for (const t of ['{{'.repeat(5000), '{{ "'.repeat(1000), '{{ ('.repeat(2000) + '}}', '\u0000{{\u0000}}']) {
      expect(checkGoTemplate(t).ok).toBe(false);
    }
  });
});
