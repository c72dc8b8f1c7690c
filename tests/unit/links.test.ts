import { createHmac } from 'node:crypto';
import { sessionLinks, type SessionLinkClaims } from '../../security/links';

const SECRET = 'a-test-id-secret-of-some-length';
const links = sessionLinks(SECRET);
const claims: SessionLinkClaims = {
  applicationId: 'innosocialmetro-2023.0123456789abcdef0123',
  sessionId: '5e551000-0000-4000-8000-000000000001',
  issue: 2,
  expiresAt: new Date('2027-03-10T12:00:00.000Z'),
};
const token = links.sign(claims);
const [payload, signature] = token.split('.') as [string, string];

/** The token with one character of `part` changed (to another base64url character). */
const tamper = (part: string, at: number) => {
  const c = part[at] === 'A' ? 'B' : 'A';
  return part.slice(0, at) + c + part.slice(at + 1);
};

describe('session links', () => {
  test('a signed link verifies to its claims (expiry to the second)', () => {
    expect(links.verify(token)).toEqual(claims);
    const odd = { ...claims, expiresAt: new Date('2027-03-10T12:00:00.999Z') };
    expect(links.verify(links.sign(odd))?.expiresAt).toEqual(new Date('2027-03-10T12:00:00.000Z'));
  });

  test('a token is URL-safe, short, and carries no secret', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThanOrEqual(400);
    expect(Buffer.from(payload, 'base64url').toString()).not.toContain(SECRET);
  });

  test('an expired link still verifies: telling expired from forged is the caller’s job', () => {
    const old = links.sign({ ...claims, expiresAt: new Date('2020-01-01T00:00:00.000Z') });
    expect(links.verify(old)?.expiresAt).toEqual(new Date('2020-01-01T00:00:00.000Z'));
  });

  test('each issue of a code has its own link', () => {
    expect(links.sign({ ...claims, issue: 3 })).not.toBe(token);
    expect(links.verify(links.sign({ ...claims, issue: 3 }))?.issue).toBe(3);
  });

  test.each<[string, string]>([
    ['a changed claim', `${tamper(payload, 5)}.${signature}`],
    ['a changed signature', `${payload}.${tamper(signature, 3)}`],
    [
      "another session's claims under this signature",
      `${links.sign({ ...claims, sessionId: '5e551000-0000-4000-8000-000000000002' }).split('.')[0]}.${signature}`,
    ],
    ['the signature cut short', `${payload}.${signature.slice(0, -2)}`],
    ['the claims only', payload],
    ['the claims and a dot', `${payload}.`],
    ['the signature only', `.${signature}`],
    ['a third part', `${token}.${signature}`],
    ['nothing', ''],
    ['padding after the signature', `${token}${'A'.repeat(400)}`],
    [
      'a signature of the claims under the secret itself, not the derived key',
      `${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`,
    ],
  ])('%s does not verify', (_, forged) => {
    expect(links.verify(forged)).toBeNull();
  });

  test('another secret neither verifies this link nor makes the same one', () => {
    const other = sessionLinks('another-id-secret-of-some-length');
    expect(other.verify(token)).toBeNull();
    expect(other.sign(claims)).not.toBe(token);
  });

  test('genuinely signed claims of the wrong shape do not verify, and nothing throws', () => {
    const wrong = [
      { ...claims, issue: 1.5 },
      { ...claims, applicationId: 42 as unknown as string },
      { ...claims, sessionId: null as unknown as string },
    ];
    for (const c of wrong) expect(links.verify(links.sign(c))).toBeNull();
  });
});
