import type { HTTPResponse, Page } from 'puppeteer-core';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server';
import { go, screenshot, signIn, startPagesSystem, type PagesSystem, type Person } from '../support/browser';
import { assign, registered } from '../support/journeys';

/*
 * Staff watch applications in the Temporal UI, where every payload is encrypted: the UI asks the API's codec
 * endpoint to decrypt them, sending the pages' session cookie. Signed-in operators see plain JSON; a stranger, or a
 * consultant (whose role may not decode), sees ciphertext. The dev server's UI has no setting for cross-origin
 * credentials, so the tests set the UI's own Data Encoder preferences as a person does in its settings dialog (in
 * the compose stack TEMPORAL_CODEC_INCLUDE_CREDENTIALS does it for everyone).
 */

let server: DevServer;
let ps: PagesSystem;
let applicationId: string;

beforeAll(async () => {
  server = await startDevServer({ uiPort: await freePort() });
  ps = await startPagesSystem({
    temporalAddress: server.address,
    env: { TEMPORAL_UI_ORIGIN: server.uiUrl! },
  });
  applicationId = await registered(ps.sys);
  await assign(ps.sys, applicationId);
}, 180_000);

afterAll(async () => {
  await ps?.stop();
  await server?.stop();
});

/** The UI's Data Encoder preferences: our codec endpoint, with credentials (its localStorage keys). */
async function useOurCodec(page: Page) {
  await go(page, `${server.uiUrl}/namespaces/default/workflows`);
  await page.evaluate((endpoint) => {
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
    localStorage.setItem('includeCredentials', 'true');
  }, `${ps.base}/codec`);
}

/** Opens the application's workflow page and says what the codec answered and what the page shows. */
async function workflowPage(page: Page) {
  const answers: number[] = [];
  const listen = (r: HTTPResponse) => {
    if (r.url().includes('/codec/decode') && r.request().method() === 'POST') answers.push(r.status());
  };
  page.on('response', listen);
  await page.goto(`${server.uiUrl}/namespaces/default/workflows/${applicationId}`, { waitUntil: 'networkidle2' });
  await page.waitForFunction(() => document.body.innerText.includes('Input'), { timeout: 30_000 });
  // The input panel fills in once the codec has answered.
  await new Promise((r) => setTimeout(r, 1_500));
  page.off('response', listen);
  return { answers, text: await page.evaluate(() => document.body.innerText) };
}

async function asPerson(who: Person | null) {
  const context = await ps.browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  if (who) await signIn(ps, page, who);
  await useOurCodec(page);
  return { page, close: () => context.close() };
}

test('a signed-in operator sees the application decrypted', async () => {
  const { page, close } = await asPerson(ps.people.operator);
  try {
    const { answers, text } = await workflowPage(page);
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set([200]));
    expect(text).toContain(`"applicationId": "${applicationId}"`);
    expect(text).toContain('"rulesVersion"');
    await screenshot(page, 'temporal-ui-application', false);
  } finally {
    await close();
  }
}, 120_000);

test.each([
  ['a stranger', null, 401],
  ['a consultant', 'consultant', 403],
] as const)(
  '%s gets no decryption and sees ciphertext only',
  async (_, who, status) => {
    const { page, close } = await asPerson(who ? ps.people[who] : null);
    try {
      const { answers, text } = await workflowPage(page);
      expect(answers.length).toBeGreaterThan(0);
      expect(new Set(answers)).toEqual(new Set([status]));
      expect(text).not.toContain('"rulesVersion"');
      expect(text).not.toContain(`"applicationId": "${applicationId}"`);
      // Undecoded, the UI shows the payload's bytes as they are stored: AES-GCM ciphertext, in base64.
      expect(text).toMatch(/\nInput\n"[A-Za-z0-9+/]{200,}={0,2}"\n/);
    } finally {
      await close();
    }
  },
  120_000,
);
