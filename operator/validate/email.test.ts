import { emailAddressProblem } from './email.js';

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
});
