import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import { romeToday } from '../../domain/rome';
import { startMailSink } from '../../notifications/sink';
import { startTestApi, type TestApi } from '../support/api';
import { assertCliBuilt, runCli, type CliRun } from '../support/cli';
import { newVatNumber, pdfBytes, projectRoot, rules2023 } from '../support/fixtures';
import { admitted, inAccompaniment, registered } from '../support/journeys';
import { confirmationCode, startTestSystem, type TestSystem } from '../support/system';

/*
 * Every operator command through the installed binary (bin/innosocial.js -> dist/), as a client of the real API on
 * a port with an operator's token: what it prints, and its exit code.
 */

let sys: TestSystem;
let api: TestApi;
let dir: string;

beforeAll(async () => {
  assertCliBuilt();
  // Sessions are logged in the past (yesterday); the journeys' are dated ahead: the worker's clock runs 30 days on.
  sys = await startTestSystem({ clockOffsetDays: 30 });
  api = await startTestApi(sys);
  dir = mkdtempSync(path.join(tmpdir(), 'innosocial-cli-'));
}, 300_000);
afterAll(async () => {
  await api?.stop();
  await sys?.stop();
});

type Run = CliRun;

/** Runs the real installed command as the operator whose token it holds, against the test API. */
const cli = (args: string[], env: Record<string, string | undefined> = {}, nodeArgs: string[] = []) =>
  runCli(api, args, env, nodeArgs);
const run = (...args: string[]) => cli(args);

const file = (name: string, content: unknown) => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return p;
};

/** A day counted from today in Rome (the programme's calendar): -1 is yesterday. */
const day = (offset: number) => {
  const d = new Date(`${romeToday(new Date())}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
};
const oneLine = (r: Run) => r.stderr.trim().split('\n').length === 1;
const tag = () => randomUUID().slice(0, 8);

describe('applications', () => {
  test('apply: exit 0 eligible; 4 rejected, naming every reason; 4 when the company already applied', async () => {
    const form = sys.form();
    const eligible = await run('apply', file('eligible.json', form));
    expect(eligible).toMatchObject({ code: 0, stderr: '' });
    expect(eligible.stdout).toMatch(/^registered \S+\.[0-9a-f]{20}: eligible \(micro enterprise\)$/m);

    const rejected = await run(
      'apply',
      file(
        'rejected.json',
        sys.form({
          company: { headcount: 300, operatingSite: { comune: 'Milano', address: 'Via Dante 1' } },
          deMinimisReceivedCents: rules2023.deMinimis.ceilingCents,
        }),
      ),
    );
    expect(rejected.code).toBe(4);
    expect(rejected.stdout).toMatch(/NOT eligible, rejected:/);
    for (const field of ['company.headcount', 'company.operatingSite.comune', 'deMinimisReceivedCents']) {
      expect(rejected.stdout).toContain(`  ${field}`);
    }
    const json = JSON.parse(
      (await run('apply', file('rejected2.json', sys.form({ company: { headcount: 300 } })), '--json')).stdout,
    );
    expect(json).toMatchObject({ eligible: false, state: 'rejected', reasons: [{ code: 'not_sme' }] });

    const again = await run('apply', file('again.json', form));
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^innosocial: this company has already applied to this call: application \S+\n$/);
  });

  test('show: the register view with the company, its comune and the timeline; unknown 3, malformed 2', async () => {
    const id = await registered(sys, sys.form({ company: { legalName: 'Bottega del Riuso Srl' } }));
    const shown = await run('show', id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/company\s+Bottega del Riuso Srl \(\d{11}\), Ivrea; micro enterprise/);
    expect(shown.stdout).toMatch(/state\s+submitted/);
    expect(shown.stdout).toMatch(/next\s+.*ASSIGN_BODY/);
    expect(shown.stdout).toMatch(/timeline\n.*SUBMIT\s+- -> submitted/);
    expect(JSON.parse((await run('show', id, '--json')).stdout)).toMatchObject({
      applicationId: id,
      companyName: 'Bottega del Riuso Srl',
      comune: 'Ivrea',
    });
    expect(await run('show', `${sys.callId}.ffffffffffffffffffff`)).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/no application/),
    });
    const malformed = await run('show', 'not-an-id');
    expect(malformed).toMatchObject({ code: 2, stderr: expect.stringMatching(/"not-an-id" is not an application id/) });
  });

  test('list: filters combine, a page at a time; the company and its comune are shown', async () => {
    const name = `Cooperativa Lista ${tag()}`;
    const ids = [];
    for (const comune of ['Pinerolo', 'Ivrea', 'Chieri']) {
      ids.push(
        await registered(
          sys,
          sys.form({ company: { legalName: name, operatingSite: { comune, address: 'Via Roma 1' } } }),
        ),
      );
    }
    const first = JSON.parse((await run('list', '--name', name, '--limit', '2', '--json')).stdout);
    expect(first.items.map((i: { applicationId: string }) => i.applicationId)).toEqual(ids.slice(0, 2));
    expect(first.next).toEqual(expect.any(String));
    const second = JSON.parse(
      (await run('list', '--name', name, '--limit', '2', '--after', first.next, '--json')).stdout,
    );
    expect(second).toEqual({ items: [expect.objectContaining({ applicationId: ids[2] })], next: null });

    const human = await run('list', '--name', name, '--state', 'submitted', '--call', sys.callId);
    expect(human.code).toBe(0);
    expect(human.stdout.trim().split('\n')).toHaveLength(3);
    expect(human.stdout).toMatch(new RegExp(`${ids[0]}\\s+submitted\\s+${name}\\s+Pinerolo`));
    expect((await run('list', '--name', name, '--state', 'accompaniment')).stdout.trim()).toBe('(no applications)');
    expect(await run('list', '--state', 'sleeping')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^innosocial: --state: Invalid option/),
    });
  });

  test('find: by partita IVA or by part of the name; 3 when nothing matches, 2 without a criterion', async () => {
    const vat = newVatNumber();
    const name = `Laboratorio Trova ${tag()}`;
    const id = await registered(sys, sys.form({ company: { vatNumber: vat, legalName: name } }));
    expect((await run('find', '--vat', vat)).stdout).toMatch(
      new RegExp(`^${id}\\s+submitted\\s+${name}\\s+Ivrea`, 'm'),
    );
    const byName = JSON.parse((await run('find', '--name', name.slice(11).toLowerCase(), '--json')).stdout);
    expect(byName).toEqual([expect.objectContaining({ applicationId: id, companyName: name })]);
    expect((await run('find', '--vat', newVatNumber())).code).toBe(3);
    expect(await run('find')).toMatchObject({ code: 2, stderr: expect.stringMatching(/give --vat or --name/) });
    expect(await run('find', '--vat', '123')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--vat/) });
  });

  test('export: the register as CSV with the company and its comune, no people', async () => {
    const name = `Export "Sociale", Srl ${tag()}`;
    const id = await registered(sys, sys.form({ company: { legalName: name } }));
    const r = await run('export', '--call', sys.callId);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toBe(
      'application_id,call_id,state,company,comune,implementing_body,themes,requested_eur,admitted_eur,' +
        'funded_eur,deadline,deadline_at,submitted_at,closed_at',
    );
    expect(rows.find((row) => row.startsWith(id))).toMatch(
      new RegExp(`^${id},${sys.callId},submitted,"${name.replace(/"/g, '""')}",Ivrea,,employment,`),
    );
    expect(r.stdout).not.toMatch(/Giulia|Ferraris|example\.org/);
  });
});

describe('import', () => {
  const HEADER =
    'call_id,legal_name,vat_number,ateco_code,headcount,turnover_eur,balance_sheet_eur,comune,address,' +
    'representative_name,representative_email,locale,themes,de_minimis_received_eur';

  test('a file from Excel (BOM, commas, quotes): each row reported by its line; exit 4 when one failed', async () => {
    const vat = newVatNumber;
    const rows = [
      `${sys.callId},Cooperativa Verde Scs,${vat()},81.30,12,950000.00,400000,Pinerolo,` +
        'Corso Torino 5,Luca Bassi,luca@example.org,it,environment;employment,0',
      `${sys.callId},"Forno Sociale, Snc",${vat()},10.71,4,"300,000.00",250000.50,001125,` +
        '"Via Palestro 3, int. 2",Anna Neri,anna@example.org,en,community_wellbeing,15000',
      `${sys.callId},Bad Vat Srl,123,62.01,5,100000,100000,Ivrea,` +
        'Via Jervis 1,Ugo Ferri,ugo@example.org,it,employment,0',
      `${sys.callId},Too Few Fields Srl,${vat()},62.01`,
      `${sys.callId},Fuori Zona Srl,${vat()},62.01,5,100000,100000,Milano,` +
        'Via Dante 1,Ada Riva,ada@example.org,it,employment,0',
    ];
    const r = await run('import', file('excel.csv', `\uFEFF${HEADER}\r\n${rows.join('\r\n')}\r\n`));
    expect(r.code).toBe(4);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^line 2: registered \S+, eligible$/);
    expect(lines[1]).toMatch(/^line 3: registered \S+, eligible$/);
    expect(lines[2]).toMatch(/^line 4: NOT registered: body\.company\.vatNumber: must be 11 digits$/);
    expect(lines[3]).toMatch(/^line 5: NOT registered: has 4 fields, the header 14/);
    expect(lines[4]).toMatch(/^line 6: registered \S+, NOT eligible: .*Milano/);
    expect(lines[5]).toBe('3 registered (2 eligible), 2 not registered');
    const forno = JSON.parse((await run('find', '--name', 'Forno Sociale, Snc', '--json')).stdout)[0];
    expect(forno).toMatchObject({ companyName: 'Forno Sociale, Snc' });
  });

  test('a file from Italian Excel (semicolons, decimal commas like 850.000,00): all eligible, exit 0', async () => {
    const semicolon = HEADER.replaceAll(',', ';');
    const name = `Sartoria Solidale ${tag()}`;
    const rows = [
      `${sys.callId};${name};${newVatNumber()};14.13;6;850.000,00;"600.000,50";Torino;` +
        'Via Po 1;Rita Gallo;rita@example.org;it;employment;0',
      `${sys.callId};"Caffè; Sociale";${newVatNumber()};56.30;3;120000;90.000;Ivrea;` +
        'Via Jervis 2;Elio Re;elio@example.org;it;community_wellbeing;1.500,00',
    ];
    const r = await run('import', file('italian.csv', `\uFEFF${semicolon}\n${rows.join('\n')}\n`), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ line: 2, registered: true, eligible: true }),
      expect.objectContaining({ line: 3, registered: true, eligible: true }),
    ]);
    const view = await sys.view(JSON.parse(r.stdout)[0].applicationId);
    expect(view).toMatchObject({ companyName: name, comune: 'Torino' });
    const form = await sys.db
      .selectFrom('applications')
      .select('form')
      .where('id', '=', view.applicationId)
      .executeTakeFirstOrThrow();
    const stored = (typeof form.form === 'string' ? JSON.parse(form.form) : form.form) as any;
    expect(stored.company).toMatchObject({ turnoverCents: 85_000_000, balanceSheetCents: 60_000_050 });
    expect((await sys.view(JSON.parse(r.stdout)[1].applicationId)).companyName).toBe('Caffè; Sociale');
  });

  test('a file without the columns is refused at once, naming them (exit 2)', async () => {
    expect(await run('import', file('nohead.csv', 'a,b\n1,2\n'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/missing columns: call_id, legal_name/),
    });
    expect((await run('import', path.join(dir, 'missing.csv'))).code).toBe(2);
  });
});

describe('an application from assignment to funding, through the CLI', () => {
  let id: string;
  const consultant = `Paola Rossi ${tag()}`;
  const email = `paola.${tag()}@i3p.example.org`;

  test('assign --date: yesterday works; before the submission or in the future is refused (exit 2)', async () => {
    id = await registered(sys, sys.form({ submittedOn: day(-3) }));
    const assign = (...extra: string[]) =>
      run('assign', id, '--body', 'i3p', '--consultant-name', consultant, '--consultant-email', email, ...extra);
    expect(await assign('--date', day(-4))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/before the submission/),
    });
    expect(await assign('--date', day(1))).toMatchObject({ code: 2, stderr: expect.stringMatching(/in the future/) });
    const slashes = await assign('--date', '26/11/2026');
    expect(slashes).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--date: "26\/11\/2026" is not a date as YYYY-MM-DD/),
    });
    expect(oneLine(slashes)).toBe(true);
    expect(await assign('--date', day(-1))).toMatchObject({
      code: 0,
      stdout: `ASSIGN_BODY accepted: ${id} is now accompaniment\n`,
    });
    const view = await sys.view(id);
    expect(view.facts).toMatchObject({ assignedOn: day(-1) });
    expect(view.timeline.find((t) => t.event === 'ASSIGN_BODY')).toMatchObject({
      summary: { effectiveOn: day(-1) },
      actor: 'Olga Operatrice',
    });
  });

  test('log-session, confirm-session, resend-code, dispute-session, complete', async () => {
    const log = (start: string, end: string, ...extra: string[]) =>
      run(
        'log-session',
        id,
        '--date',
        day(-1),
        '--start',
        start,
        '--end',
        end,
        '--topic',
        'impact map',
        '--attendee',
        'Giulia Ferraris',
        ...extra,
      );
    expect(await log('09:00', '13:00')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('LOG_SESSION accepted'),
    });
    expect(JSON.parse((await log('14:00', '18:00', '--json')).stdout).facts.sessionsLogged).toBe(2);
    expect((await log('19:00', '20:00')).code).toBe(0);
    const slashes = await run(
      'log-session',
      id,
      '--date',
      '26/11/2026',
      '--start',
      '09:00',
      '--end',
      '10:00',
      '--topic',
      't',
    );
    expect(slashes).toMatchObject({ code: 2, stderr: expect.stringMatching(/YYYY-MM-DD/) });
    expect(slashes.stderr).not.toMatch(/end must be after start/);

    const answer = (verb: string, start: string, code: string) =>
      run(verb, id, '--date', day(-1), '--start', start, '--code', code);
    const first = await confirmationCode(sys.db, id, day(-1), '09:00');
    expect(await answer('confirm-session', '09:00', first)).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('CONFIRM_SESSION accepted'),
    });
    expect(await answer('confirm-session', '14:00', 'nope')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/6-digit code/),
    });
    const old = await confirmationCode(sys.db, id, day(-1), '14:00');
    expect(await run('resend-code', id, '--date', day(-1), '--start', '14:00')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('RESEND_SESSION_CODE accepted'),
    });
    const fresh = await confirmationCode(sys.db, id, day(-1), '14:00');
    if (fresh !== old) {
      const refused = await answer('confirm-session', '14:00', old);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/not valid for this session/);
    }
    expect((await answer('confirm-session', '14:00', fresh)).code).toBe(0);
    const third = await confirmationCode(sys.db, id, day(-1), '19:00');
    expect(await answer('dispute-session', '19:00', third)).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('DISPUTE_SESSION accepted'),
    });
    expect((await sys.view(id)).facts).toMatchObject({ verifiedHours: 8, sessionsLogged: 3 });
    expect(await run('complete', id)).toMatchObject({
      code: 0,
      stdout: `COMPLETE_ACCOMPANIMENT accepted: ${id} is now pre_project\n`,
    });
  });

  test('attach, submit-pre-project, forward', async () => {
    expect(await run('attach', id, file('pre-progetto.pdf', pdfBytes('cli')), '--kind', 'pre_project')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('ATTACH_DOCUMENT accepted'),
    });
    const notPdf = await run('attach', id, file('notes.pdf', 'just some notes'));
    expect(notPdf).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/notes\.pdf is not a PDF, ODT, DOCX or signed P7M/),
    });
    const submitted = await run('submit-pre-project', id, path.join(projectRoot, 'examples', 'pre-project.json'));
    expect(submitted).toMatchObject({ code: 0, stdout: expect.stringContaining('SUBMIT_PRE_PROJECT accepted') });
    expect(await run('forward', id)).toMatchObject({
      code: 0,
      stdout: `FORWARD_TO_COMMISSION accepted: ${id} is now commission\n`,
    });
    const shown = (await run('show', id)).stdout;
    expect(shown).toMatch(/documents\s+pre_project:pre-progetto\.pdf/);
    expect(shown).toMatch(/pre-project\s+v1 "Laboratorio di riuso tessile"/);
    expect(shown).toMatch(/implementing body\s+I3P scpa \(Paola Rossi/);
  });

  test('fund after the decision (amounts as people write them); a bad amount is a usage error', async () => {
    const decided = await api.call('POST', `/applications/${id}/decision`, {
      token: api.users.chair.token,
      body: { decision: 'approve', motivation: 'Sound plan.' },
    });
    expect(decided.body.state).toBe('admitted');
    expect(await run('fund', id, '--amount', '12,5x', '--date', day(0))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^innosocial: --amount: "12,5x" is not an amount/),
    });
    expect(await run('fund', id, '--amount', '40.000,00', '--date', day(0))).toMatchObject({
      code: 0,
      stdout: `RECORD_FUNDING accepted: ${id} is now funded\n`,
    });
    expect((await sys.view(id)).fundedCents).toBe(4_000_000);
  });

  test('withdraw; then any command is refused with exit 4, in one line', async () => {
    const other = await inAccompaniment(sys);
    expect(await run('withdraw', other, '--reason', 'the company renounces')).toMatchObject({
      code: 0,
      stdout: `WITHDRAW accepted: ${other} is now withdrawn\n`,
    });
    const refused = await run('complete', other);
    expect(refused).toMatchObject({ code: 4, stderr: expect.stringMatching(/withdrawn, a final state/) });
    expect(oneLine(refused)).toBe(true);
  });

  test('send takes any command as JSON; diagram prints the machine', async () => {
    const other = await inAccompaniment(sys);
    const data = file('withdraw.json', { reason: 'changed plans' });
    expect(await run('send', other, 'WITHDRAW', '--data', data)).toMatchObject({
      code: 0,
      stdout: `WITHDRAW accepted: ${other} is now withdrawn\n`,
    });
    expect(await run('send', other, 'NOT_AN_EVENT')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^innosocial: body\.type: Invalid option: expected one of "ASSIGN_BODY"/),
    });
    const diagram = await run('diagram');
    expect(diagram.stdout).toMatch(/^stateDiagram-v2\n/);
    expect(diagram.stdout).toContain('commission --> admitted: APPROVE');
  });
});

describe('budgets', () => {
  const euro = (cents: number) => `${cents / 100}`;
  const budgetOf = async (call: string) => JSON.parse((await run('budget', 'show', '--call', call, '--json')).stdout);

  test('budget with no --call lists every call', async () => {
    const other = `test-other-${tag()}`;
    writeFileSync(path.join(sys.config.CALLS_DIR, `${other}.v1.json`), JSON.stringify({ ...rules2023, callId: other }));
    expect((await run('budget', 'set', '--call', other, '--total', '1.000,00')).code).toBe(0);
    expect((await run('budget', 'set', '--call', sys.callId, '--total', '2000000')).code).toBe(0);
    const all = await run('budget');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`^call ${other}: total EUR 1\\.000,00, committed EUR 0,00`, 'm'));
    expect(all.stdout).toMatch(new RegExp(`^call ${sys.callId}: total EUR 2\\.000\\.000,00`, 'm'));
    const json = JSON.parse((await run('budget', '--json')).stdout);
    expect(json.map((b: { callId: string }) => b.callId)).toEqual(expect.arrayContaining([other, sys.callId]));
  });

  test('budget set: raising promotes the reserve list; below what is committed is refused (exit 4)', async () => {
    const { committedCents } = await budgetOf(sys.callId);
    // Exactly what is committed: the next admission waits.
    expect((await run('budget', 'set', '--call', sys.callId, '--total', euro(committedCents))).code).toBe(0);
    const waiting = await admitted(sys);
    expect((await sys.view(waiting)).facts).toMatchObject({ budget: 'waiting', budgetPosition: 1 });
    expect((await run('budget', 'show', '--call', sys.callId)).stdout).toMatch(
      new RegExp(`#1\\s+${waiting}\\s+EUR 40\\.000,00`),
    );

    const raised = await run('budget', 'set', '--call', sys.callId, '--total', euro(committedCents + 4_000_000));
    expect(raised).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`promoted from the reserve list: ${waiting}`),
    });
    // The workflow hears it from the ledger and records its place.
    for (let i = 0; i < 100 && (await sys.view(waiting)).facts!.budget !== 'reserved'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await sys.view(waiting)).facts).toMatchObject({ budget: 'reserved' });

    const lowered = await run('budget', 'set', '--call', sys.callId, '--total', '10');
    expect(lowered).toMatchObject({ code: 4, stderr: expect.stringMatching(/already committed/) });
    expect((await budgetOf(sys.callId)).totalCents).toBe(committedCents + 4_000_000);
  });

  test('an unknown call has no budget to show or set (exit 3); a bad amount is a usage error (exit 2)', async () => {
    expect(await run('budget', 'show', '--call', 'no-such-call')).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/no-such-call/),
    });
    expect(await run('budget', 'set', '--call', 'no-such-call', '--total', '10')).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/no call no-such-call/),
    });
    expect((await run('budget')).stdout).not.toContain('no-such-call');
    expect(await run('budget', 'set', '--call', sys.callId, '--total', 'lots')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--total: "lots" is not an amount/),
    });
  });
});

describe('people and mail', () => {
  test('bodies: the registry, with the consultants assigned so far', async () => {
    const id = await registered(sys);
    const name = `Bruno Neri ${tag()}`;
    await run(
      'assign',
      id,
      '--body',
      'nemo',
      '--consultant-name',
      name,
      '--consultant-email',
      `bruno.${tag()}@nemo.example.org`,
    );
    const r = await run('bodies');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^nemo {2}NEMO Nuova Economia in Montagna Soc\. Coop\.$/m);
    expect(r.stdout).toMatch(new RegExp(`^\\s+${name}\\s+bruno\\.`, 'm'));
    expect(r.stdout).toMatch(/^socialfare {2}SocialFare/m);
  });

  test('users: add prints a token once, list never shows tokens, revoke ends it', async () => {
    const added = await run('users', 'add', '--role', 'consultant', '--name', 'Teo', '--body', 'redrim', '--json');
    expect(added.code).toBe(0);
    const { user, token } = JSON.parse(added.stdout);
    expect(token).toMatch(/^ism_/);
    expect((await api.call('GET', '/me', { token })).body).toMatchObject({ name: 'Teo', role: 'consultant' });
    const listed = await run('users', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^${user.id}\\s+consultant\\s+Teo\\s+-\\s+redrim\\s+active$`, 'm'));
    expect(listed.stdout).not.toContain(token);
    expect(await run('users', 'add', '--role', 'consultant', '--name', 'No Body')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/a consultant needs a body/),
    });
    expect((await run('users', 'revoke', user.id)).code).toBe(0);
    expect((await api.call('GET', '/me', { token })).status).toBe(401);
    expect((await run('users', 'revoke', user.id)).code).toBe(3);
  });

  test('users add --direct needs DATABASE_URL: without one it says so (exit 2)', async () => {
    expect(await run('users', 'add', '--direct', '--role', 'operator', '--name', 'Prima')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--direct needs DATABASE_URL/),
    });
  });

  // The CLI and the API must share the database: PGlite lives in the test's own process, PostgreSQL does not.
  (process.env.DATABASE_URL ? test : test.skip)(
    'users add --direct writes the first operator straight into DATABASE_URL (skipped on PGlite: no shared server)',
    async () => {
      const r = await cli(['users', 'add', '--direct', '--role', 'operator', '--name', 'Prima Operatrice', '--json'], {
        DATABASE_URL: process.env.DATABASE_URL,
        INNOSOCIAL_TOKEN: 'not-needed',
      });
      expect(r.code).toBe(0);
      const { token } = JSON.parse(r.stdout);
      expect((await api.call('GET', '/me', { token })).body).toMatchObject({
        name: 'Prima Operatrice',
        role: 'operator',
      });
    },
  );

  test('mail list and requeue: a failed message back in the queue, one or all', async () => {
    const id = await registered(sys);
    const rows = await sys.db.selectFrom('notification_outbox').select('id').where('application_id', '=', id).execute();
    const fail = async (ids: string[]) =>
      sys.db
        .updateTable('notification_outbox')
        .set({ failed_at: new Date(), last_error: '550 mailbox unavailable' })
        .where('id', 'in', ids)
        .execute();
    const messageId = rows[0]!.id;
    await fail([messageId]);
    const failed = JSON.parse((await run('mail', 'list', '--status', 'failed', '--application', id, '--json')).stdout);
    expect(failed).toEqual([
      expect.objectContaining({ id: messageId, status: 'failed', lastError: '550 mailbox unavailable' }),
    ]);
    expect((await run('mail', '--status', 'failed')).stdout).toMatch(
      new RegExp(`^${messageId}\\s+failed\\s+application\\.submitted`, 'm'),
    );
    expect(await run('mail', 'requeue', messageId)).toMatchObject({
      code: 0,
      stdout: `requeued 1 message(s): ${messageId}\n`,
    });
    const row = await sys.db
      .selectFrom('notification_outbox')
      .select('failed_at')
      .where('id', '=', messageId)
      .executeTakeFirstOrThrow();
    expect(row.failed_at).toBeNull();
    expect((await run('mail', 'requeue', messageId)).code).toBe(3);

    const other = await registered(sys);
    const more = await sys.db
      .selectFrom('notification_outbox')
      .select('id')
      .where('application_id', 'in', [id, other])
      .execute();
    await fail(more.map((m) => m.id));
    const all = JSON.parse((await run('mail', 'requeue', '--all-failed', '--json')).stdout);
    expect(all.requeued).toEqual(expect.arrayContaining(more.map((m) => m.id)));
    expect(await run('mail', 'requeue')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/give a message id or --all-failed/),
    });
  });

  test('mail sink: the messages the local sink caught, and one of them in full', async () => {
    const sinkDir = mkdtempSync(path.join(tmpdir(), 'innosocial-sink-'));
    const sink = await startMailSink({ dir: sinkDir, port: 0 });
    try {
      const transport = createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
      await transport.sendMail({
        from: 'innosocial@example.org',
        to: 'giulia.ferraris@example.org',
        subject: 'Conferma della sessione',
        text: 'Il codice è 042917.',
      });
      const env = { MAIL_SINK_DIR: sinkDir };
      const listed = await cli(['mail', 'sink', '--to', 'giulia', '--json'], env);
      expect(listed.code).toBe(0);
      const [message] = JSON.parse(listed.stdout);
      expect(message).toMatchObject({
        to: expect.stringContaining('giulia.ferraris@example.org'),
        subject: 'Conferma della sessione',
      });
      expect((await cli(['mail', 'sink', '--to', 'nobody@else'], env)).stdout).toMatch(/^\(no messages in /);
      const shown = await cli(['mail', 'sink', '--show', message.file], env);
      expect(shown.stdout).toMatch(/^From: innosocial@example\.org\nTo: .*giulia/);
      expect(shown.stdout).toContain('Il codice è 042917.');
      expect(await cli(['mail', 'sink', '--show', '../../etc/passwd'], env)).toMatchObject({ code: 2 });
    } finally {
      await sink.stop();
    }
  });
});

describe('usage', () => {
  test('an unknown command or option is exit 2, one line, with a suggestion', async () => {
    const command = await run('lsit');
    expect(command).toMatchObject({ code: 2, stderr: "innosocial: unknown command 'lsit' (Did you mean list?)\n" });
    const option = await run('list', '--stat', 'submitted');
    expect(option).toMatchObject({ code: 2, stderr: "innosocial: unknown option '--stat' (Did you mean --state?)\n" });
    const sub = await run('budget', 'sett');
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/Did you mean set\?/);
    for (const r of [command, option, sub]) expect(oneLine(r)).toBe(true);
    expect(await run('show')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/missing required argument 'id'/),
    });
  });

  test('under --json errors are JSON on stderr, with their code and fields', async () => {
    const malformed = await run('show', 'not-an-id', '--json');
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stderr)).toMatchObject({
      error: { code: 'invalid_input', message: expect.stringMatching(/not-an-id/) },
    });
    const usage = await run('lsit', '--json');
    expect(JSON.parse(usage.stderr)).toMatchObject({
      error: { code: 'invalid_input', message: expect.stringMatching(/Did you mean list/) },
    });
    const invalidUser = await run(
      'users',
      'add',
      '--role',
      'auditor',
      '--name',
      'X',
      '--email',
      'not-an-address',
      '--json',
    );
    expect(JSON.parse(invalidUser.stderr).error).toMatchObject({ code: 'invalid_input', errors: [{ path: 'email' }] });
  });

  test('an unreachable API is exit 1, "cannot reach the API" (api_unavailable, not temporal_unavailable)', async () => {
    const args = ['show', `${sys.callId}.0123456789abcdef0123`];
    const down = await cli(args, { INNOSOCIAL_API_URL: 'http://127.0.0.1:9' });
    expect(down).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^innosocial: cannot reach the API at http:\/\/127\.0\.0\.1:9/),
    });
    const json = await cli([...args, '--json'], { INNOSOCIAL_API_URL: 'http://127.0.0.1:9' });
    expect(JSON.parse(json.stderr).error.code).toBe('api_unavailable');
    const badToken = await cli(args, { INNOSOCIAL_TOKEN: 'ism_revoked-or-made-up' });
    expect(badToken).toMatchObject({ code: 5, stderr: expect.stringMatching(/bearer token is not valid/) });
  });

  test("every command's --help shows an example", async () => {
    // The commands as the binary lists them (commander is ESM: jest cannot load the program itself).
    const commandsIn = (help: string) =>
      (help.split('\nCommands:\n')[1] ?? '')
        .split('\n\n')[0]!
        .split('\n')
        .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined && name !== 'help');
    const paths: string[][] = [];
    const walk = async (prefix: string[]) => {
      const help = await run(...prefix, '--help');
      expect({ prefix, code: help.code, example: /\nExample:\n {2}innosocial /.test(help.stdout) }).toEqual({
        prefix,
        code: 0,
        example: true,
      });
      const subs = commandsIn(help.stdout).map((name) => [...prefix, name]);
      paths.push(...subs);
      for (let i = 0; i < subs.length; i += 4) await Promise.all(subs.slice(i, i + 4).map(walk));
    };
    await walk([]);
    expect(paths.length).toBeGreaterThan(25);
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['apply', 'budget set', 'mail requeue', 'users add']),
    );
  });

  test('--help loads no Temporal client; the cold start of show --json is measured', async () => {
    const recorder = file(
      'record-modules.js',
      [
        "const Module = require('node:module');",
        'const requested = new Set();',
        'const load = Module._load;',
        'Module._load = function (request, ...rest) {',
        '  requested.add(request);',
        '  return load.call(this, request, ...rest);',
        '};',
        "process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT,",
        '  JSON.stringify([...requested, ...Object.keys(require.cache)])));',
      ].join('\n'),
    );
    for (const args of [['--help'], ['show', '--help']]) {
      const out = path.join(dir, `modules-${args.join('')}.json`);
      const r = await cli(args, { MODULES_OUT: out }, ['--require', recorder]);
      expect(r.code).toBe(0);
      const loaded: string[] = JSON.parse(readFileSync(out, 'utf8'));
      expect(loaded.some((m) => m.includes('commander'))).toBe(true); // the recorder saw the CLI load
      expect({ args, temporal: loaded.filter((m) => m.includes('@temporalio/')) }).toEqual({ args, temporal: [] });
    }
    const id = await registered(sys);
    const timings = [];
    for (let i = 0; i < 3; i++) {
      const r = await run('show', id, '--json');
      expect(r.code).toBe(0);
      timings.push(Math.round(r.ms));
    }
    console.log(`cold start of \`innosocial show <id> --json\` (node + CLI + one API call): ${timings.join(', ')} ms`);
  });
});
