/// <reference lib="dom" />
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { buildApi } from '../../client/api/server';
import { createUser, type UserRole } from '../../db/repositories/users';
import { chromiumPath } from './chromium';
import { startTestSystem, type TestSystem } from './system';

const root = path.resolve(__dirname, '..', '..');

/**
 * A real Chromium (headless shell) for one test file. puppeteer-core is ESM-only: loaded with a real dynamic
 * import (jest.config.js keeps it one for this file). Every launch gets a fresh profile, and the pages may reach
 * 127.0.0.1 only: anything else is aborted.
 */
export async function launchBrowser(): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core');
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'innosocial-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: 'shell',
    userDataDir,
    defaultViewport: { width: 1200, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-gpu',
      '--disable-dev-shm-usage',
    ],
  });
  browser.once('disconnected', () => {
    // Chromium may still be writing its cache as it exits: retried, and never a reason to fail a test.
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      /* a temporary directory left behind */
    }
  });
  return browser;
}

export interface CheckedPage extends Page {
  /** Content-Security-Policy violations the page reported (none expected: nothing inline, nothing foreign). */
  cspViolations: string[];
  /** Requests to anywhere but this machine, aborted (none expected: no CDN, no fonts from elsewhere). */
  blocked: string[];
}

/**
 * A tab that reaches 127.0.0.1 only and remembers CSP violations; `ownCookies` gives it a context of its own
 * (another person signed in beside the first).
 */
export async function openTab(browser: Browser, ownCookies = false): Promise<CheckedPage> {
  const context = ownCookies ? await browser.createBrowserContext() : browser.defaultBrowserContext();
  const page = (await context.newPage()) as CheckedPage;
  page.cspViolations = [];
  page.blocked = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const host = new URL(request.url()).hostname;
    if (host === '127.0.0.1' || request.url().startsWith('data:')) void request.continue();
    else {
      page.blocked.push(request.url());
      void request.abort();
    }
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) page.cspViolations.push(message.text());
  });
  return page;
}

const AXE = readFileSync(path.join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it stands (none expected), with their targets. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply to it.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n: { target: string[] }) => n.target.join(' ')).join(', ')}`);
  });
  return violations as string[];
}

/** Clicks a submit button and waits for the page the form leads to; answers its HTTP status. */
export async function submit(page: Page, selector: string): Promise<number> {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response?.status() ?? 0;
}

export async function go(page: Page, url: string): Promise<number> {
  const response = await page.goto(url);
  return response?.status() ?? 0;
}

/** Sets a field's value as typed (date and time inputs take YYYY-MM-DD and HH:MM whatever the browser's locale). */
export const fill = (page: Page, selector: string, value: string) =>
  page.$eval(
    selector,
    (el, v) => {
      (el as HTMLInputElement).value = v;
    },
    value,
  );

/** The visible text of the page's <main>. */
export const mainText = (page: Page) => page.$eval('main', (m) => (m as HTMLElement).innerText);

/** The error shown next to a field (its id is derived from the field's name). */
export const fieldError = (page: Page, name: string) =>
  page.$eval(`#f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}-error`, (e) => (e as HTMLElement).innerText).catch(() => '');

/** Screenshots for the README, only when asked (SCREENSHOTS=1): tests never write into the tree otherwise. */
export async function screenshot(page: Page, name: string, fullPage = true) {
  if (!process.env.SCREENSHOTS) return;
  const dir = path.join(root, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) as `${string}.png`, fullPage });
}

export interface Person {
  id: string;
  token: string;
  email: string;
  name: string;
}

export interface PagesSystem {
  sys: TestSystem;
  base: string;
  browser: Browser;
  people: {
    operator: Person;
    chair: Person;
    members: [Person, Person, Person];
    consultant: Person;
    otherConsultant: Person;
    auditor: Person;
  };
  /** A link from an e-mail, opened on this test's server. */
  local(link: string): string;
  stop(): Promise<void>;
}

/** The whole system with its API and pages on a port, people with registered addresses, and one browser. */
export async function startPagesSystem(
  options: Pick<Parameters<typeof startTestSystem>[0] & object, 'temporalAddress' | 'env'> = {},
): Promise<PagesSystem> {
  // Its own database: the queues and lists a page shows are then this file's applications, not every suite's.
  const sys = await startTestSystem({ clockOffsetDays: 30, privateDatabase: true, ...options });
  const api = buildApi({ config: sys.config, client: sys.client, db: sys.db, ring: sys.ring });
  const base = await api.listen({ host: '127.0.0.1', port: 0 }).catch(async (err: unknown) => {
    await sys.stop();
    throw err;
  });
  const tag = Math.random().toString(36).slice(2, 8);
  const person = async (name: string, role: UserRole, extra: { bodyId?: string; chair?: boolean } = {}) => {
    const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${tag}@example.org`;
    const { user, token } = await createUser(sys.db, { name, role, email, ...extra });
    return { id: user.id, token, email, name };
  };
  const people: PagesSystem['people'] = {
    operator: await person('Olga Operatrice', 'operator'),
    chair: await person('Chiara Bianchi', 'commission', { chair: true }),
    members: [
      await person('Marta Rossi', 'commission'),
      await person('Mario Verdi', 'commission'),
      await person('Mirko Gallo', 'commission'),
    ],
    consultant: await person('Carla Neri', 'consultant', { bodyId: 'i3p' }),
    otherConsultant: await person('Nino Fontana', 'consultant', { bodyId: 'nemo' }),
    auditor: await person('Aldo Revisori', 'auditor'),
  };
  const browser = await launchBrowser().catch(async (err: unknown) => {
    await api.close();
    await sys.stop();
    throw err;
  });
  return {
    sys,
    base,
    browser,
    people,
    local: (link) => {
      const u = new URL(link);
      return `${base}${u.pathname}${u.search}`;
    },
    async stop() {
      await browser.close();
      await api.close();
      await sys.stop();
    },
  };
}

/** The latest sign-in link e-mailed to this address (read from the outbox, as the mail would carry it). */
export async function signInLink(sys: TestSystem, email: string): Promise<string | null> {
  const row = await sys.db
    .selectFrom('notification_outbox')
    .select('payload')
    .where('template', '=', 'user.sign-in')
    .where('recipient', '=', email)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row) return null;
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { link: string };
  return payload.link;
}

/** Signs a person in through the pages, as they would: ask for a link, open it from the mail, press the button. */
export async function signIn(ps: PagesSystem, page: Page, who: Person) {
  await go(page, `${ps.base}/accedi`);
  await page.type('#f-email', who.email);
  await submit(page, 'form[action="/accedi"] button[type=submit]');
  const link = await signInLink(ps.sys, who.email);
  if (!link) throw new Error(`no sign-in link was sent to ${who.email}`);
  await go(page, ps.local(link));
  return submit(page, 'main form button[type=submit]');
}
