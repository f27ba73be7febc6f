import { EMAIL_PATTERN } from '../api/schema.js';
import { emailAddressProblem, mailParserProblem } from './email.js';

describe('emailAddressProblem', () => {
  it.each(['team@example.com', 'first.last+alerts@mail.example.co.uk', 'ops@localhost', 'a_b%c-d@x-y.org'])('accepts %s', (a) => {
    expect(emailAddressProblem(a)).toBeUndefined();
  });
  it.each([
    ['team@example.com\r\nBcc: all@example.com', 'contains a line break, which could inject mail headers; give one plain address such as team@example.com'],
    ['team@example.com\nX: y', 'contains a line break, which could inject mail headers; give one plain address such as team@example.com'],
    ['team\u0000@example.com', 'contains a control character; give one plain address such as team@example.com'],
    ['Team <team@example.com>', 'must be a bare address without a display name or angle brackets, e.g. team@example.com'],
    ['a@example.com,b@example.com', 'must be a single address; list several recipients as separate entries of to'],
    ['a@example.com;b@example.com', 'must be a single address; list several recipients as separate entries of to'],
    ['team @example.com', 'must not contain spaces; give one plain address such as team@example.com'],
    ['{{ .x }}@example.com', 'must not contain spaces; give one plain address such as team@example.com'],
    ['{{.x}}@example.com', 'must not contain { or } (Alertmanager would read them as a template)'],
    ['team.example.com', 'must contain exactly one @, as in team@example.com'],
    ['a@b@example.com', 'must contain exactly one @, as in team@example.com'],
    ['@example.com', 'is missing the part before @, as in team@example.com'],
    ['team@', 'is missing the domain after @, as in team@example.com'],
    ['"quoted"@example.com', 'must be a plain email address such as team@example.com: letters, digits and . _ % + - before the @, a domain name after it'],
    ['team@-example.com', 'must be a plain email address such as team@example.com: letters, digits and . _ % + - before the @, a domain name after it'],
    [`${'a'.repeat(65)}@example.com`, 'the part before @ must be at most 64 characters long'],
  ])('rejects %j', (address, message) => {
    expect(emailAddressProblem(address)).toBe(message);
  });

  const dots = "Alertmanager's address parser (Go net/mail) refuses it, and then no one on the list gets the email: the part before @ must not start or end with a dot or have two dots in a row";
  it.each(['john..doe@example.com', '.john@example.com', 'john.@example.com', '.@example.com'])('rejects %s, which net/mail refuses too', (address) => {
    expect(emailAddressProblem(address)).toBe(dots);
    expect(new RegExp(EMAIL_PATTERN).test(address)).toBe(false); // the CRD refuses it at apply time
    expect(mailParserProblem(address)).toMatch(/^Alertmanager's address parser \(Go net\/mail\) refuses it \(mail: /);
  });
});

describe('mailParserProblem: Go net/mail, as Alertmanager parses its to list', () => {
  // Odd but valid: plus-addressing, punycode domains, a bare host, every character the pattern allows.
  it.each(['oncall@example.com', 'team+alerts@example.com', 'ops@xn--bcher-kva.example', 'ops@localhost', 'a_b%c-d@x-y.org', 'first.last@mail.example.co.uk', '1@2.3'])(
    'accepts %s, as the plain pattern does',
    (address) => {
      expect(mailParserProblem(address)).toBeUndefined();
      expect(emailAddressProblem(address)).toBeUndefined();
    },
  );

  it('names a display name net/mail would strip', () => {
    expect(mailParserProblem('Team <team@example.com>')).toBe('Alertmanager\'s address parser (Go net/mail) reads it as "team@example.com"; give one plain address such as team@example.com');
  });
});
