import { invalid } from '../../client/errors';
import { loadComuni } from '../../config/comuni';
import { ApplicationFormSchema, type ApplicationForm } from '../../domain/application';
import { ineligibilityReasons, sizeClassOf } from '../../domain/eligibility';
import { verifyHours, type LoggedSession } from '../../domain/hours';
import { machineRules } from '../../domain/machine-rules';
import { sniffMediaType } from '../../domain/media-type';
import { eligibleCostOf, preProjectProblems, supportOf } from '../../domain/pre-project';
import { vatNumberProblem, withVatCheckDigit } from '../../domain/vat';
import { applicationForm, pdfBytes, preProject, projectRoot, rules2023 } from '../support/fixtures';

describe('vatNumberProblem', () => {
  // Worked by hand: odd positions 1+3+5+7+9 = 25; even positions doubled 4, 8, 12->3, 16->7, 0 = 22;
  // 47 -> check digit (10 - 7) % 10 = 3.
  test('accepts a number whose check digit was computed by hand', () => {
    expect(vatNumberProblem('12345678903')).toBeNull();
  });

  test('names the wrong and the expected check digit', () => {
    expect(vatNumberProblem('12345678904')).toBe('check digit is 4, expected 3');
  });

  // A check digit is only one if exactly one final digit completes a prefix.
  test.each(['0000000000', '0123456789', '9876543210', '0048841001'])(
    'exactly one check digit completes %s',
    (first10) => {
      const valid = withVatCheckDigit(first10);
      const completions = [...'0123456789'].filter((d) => vatNumberProblem(first10 + d) === null);
      expect(completions).toEqual([valid.slice(10)]);
    },
  );

  test('any single mistyped digit is caught', () => {
    const valid = withVatCheckDigit('0712345678');
    for (let i = 0; i < 11; i++) {
      const typo = valid.slice(0, i) + String((Number(valid[i]) + 1) % 10) + valid.slice(i + 1);
      expect(vatNumberProblem(typo)).not.toBeNull();
    }
  });

  test.each(['1234567890', '123456789012', '1234567890A', ' 12345678903', 'IT12345678903', ''])(
    'refuses %p as malformed',
    (vat) => {
      expect(vatNumberProblem(vat)).toBe('must be exactly 11 digits');
    },
  );
});

describe('ineligibilityReasons', () => {
  const comuni = loadComuni(projectRoot);
  const codes = (form: ApplicationForm, rules = rules2023) =>
    ineligibilityReasons(form, rules, comuni).map((r) => r.code);
  const company = (c: Partial<ApplicationForm['company']>) => applicationForm({ company: c });
  const site = (comune: string) => company({ operatingSite: { comune, address: 'Via Roma 1' } });
  const smallLimit = rules2023.sme.small.maxTurnoverOrBalanceCents;

  test('the territory has its 312 comuni, Ivrea among them under its ISTAT code', () => {
    expect(comuni).toHaveLength(312);
    expect(comuni.find((c) => c.istatCode === '001125')?.name).toBe('Ivrea');
  });

  test('the fixture company is eligible, so each failure below has a single cause', () => {
    expect(codes(applicationForm())).toEqual([]);
  });

  test.each(['001125', 'Ivrea', 'Torino', "Albiano d'Ivrea"])('the operating site %p is in the territory', (comune) => {
    expect(codes(site(comune))).toEqual([]);
  });

  // Names must match exactly: a near miss would otherwise let an outside comune through.
  test.each(['ivrea', 'IVREA', 'Milano', '015146', '1125'])(
    'the operating site %p is outside the territory',
    (comune) => {
      expect(codes(site(comune))).toEqual(['outside_territory']);
    },
  );

  test.each([
    [49, []],
    [50, ['not_sme']],
  ])('%i staff -> %p', (headcount, expected) => {
    expect(codes(company({ headcount }))).toEqual(expected);
  });

  test('turnover over the limit with the balance sheet under it is still an SME', () => {
    expect(codes(company({ turnoverCents: smallLimit + 1, balanceSheetCents: smallLimit }))).toEqual([]);
  });

  test('turnover and balance sheet both over the limit is not an SME, and the message gives the figures', () => {
    const [reason, ...others] = ineligibilityReasons(
      company({ turnoverCents: smallLimit + 1, balanceSheetCents: smallLimit + 1 }),
      rules2023,
      comuni,
    );
    expect(others).toEqual([]);
    expect(reason).toMatchObject({ code: 'not_sme', field: 'company.turnoverCents' });
    expect(reason?.message).toContain('EUR 10.000.000,01');
  });

  test.each([
    [rules2023.deMinimis.ceilingCents - 1, []],
    [rules2023.deMinimis.ceilingCents, ['de_minimis_exhausted']],
  ])('de minimis already received %i cents -> %p', (deMinimisReceivedCents, expected) => {
    expect(codes(applicationForm({ deMinimisReceivedCents }))).toEqual(expected);
  });

  test('a theme the call does not open is refused', () => {
    const onlyEmployment = { ...rules2023, themes: ['employment' as const] };
    expect(codes(applicationForm({ themes: ['employment', 'environment'] }), onlyEmployment)).toEqual([
      'theme_not_in_call',
    ]);
  });

  test('every failure is listed, not only the first', () => {
    const form = applicationForm({
      company: { vatNumber: '12345678904', headcount: 50, operatingSite: { comune: 'Milano', address: 'Via Dante 1' } },
      deMinimisReceivedCents: rules2023.deMinimis.ceilingCents,
    });
    expect(codes(form)).toEqual(['vat_number_invalid', 'not_sme', 'outside_territory', 'de_minimis_exhausted']);
  });
});

describe('sizeClassOf', () => {
  const company = (c: Partial<ApplicationForm['company']>) => applicationForm({ company: c });
  const { micro, small } = rules2023.sme;

  // The 2023 rules: micro up to 9 staff and EUR 2M, small up to 49 staff and EUR 10M (turnover OR balance sheet).
  test.each<[string, Partial<ApplicationForm['company']>, 'micro' | 'small' | null]>([
    ['the fixture company (7 staff, EUR 850,000)', {}, 'micro'],
    ['9 staff', { headcount: micro.maxHeadcount }, 'micro'],
    ['10 staff', { headcount: micro.maxHeadcount + 1 }, 'small'],
    [
      'turnover over the micro limit, balance sheet within it',
      { turnoverCents: micro.maxTurnoverOrBalanceCents + 1, balanceSheetCents: micro.maxTurnoverOrBalanceCents },
      'micro',
    ],
    [
      'both over the micro limit',
      { turnoverCents: micro.maxTurnoverOrBalanceCents + 1, balanceSheetCents: micro.maxTurnoverOrBalanceCents + 1 },
      'small',
    ],
    ['49 staff', { headcount: small.maxHeadcount }, 'small'],
    ['50 staff', { headcount: small.maxHeadcount + 1 }, null],
    [
      'both over the small limit',
      { turnoverCents: small.maxTurnoverOrBalanceCents + 1, balanceSheetCents: small.maxTurnoverOrBalanceCents + 1 },
      null,
    ],
  ])('%s -> %p', (_, c, expected) => {
    expect(sizeClassOf(company(c), rules2023)).toBe(expected);
  });

  test("reads the call's own limits (sme.micro), not fixed ones", () => {
    const stricter = { ...rules2023, sme: { ...rules2023.sme, micro: { ...micro, maxHeadcount: 5 } } };
    expect(sizeClassOf(company({ headcount: 7 }), stricter)).toBe('small');
  });

  test('agrees with eligibility: no size class exactly when the company is not an SME', () => {
    const comuni = loadComuni(projectRoot);
    for (const headcount of [0, 9, 10, 49, 50, 250]) {
      const form = company({ headcount });
      const notSme = ineligibilityReasons(form, rules2023, comuni).some((r) => r.code === 'not_sme');
      expect([headcount, sizeClassOf(form, rules2023) === null]).toEqual([headcount, notSme]);
    }
  });
});

describe('the application form', () => {
  const parse = (form: unknown) => ApplicationFormSchema.safeParse(form);

  test('the fixture form is valid; locale, themes and de minimis take their defaults', () => {
    const { themes: _t, deMinimisReceivedCents: _d, ...form } = applicationForm();
    const { locale: _l, ...representative } = form.company.legalRepresentative;
    const parsed = parse({ ...form, company: { ...form.company, legalRepresentative: representative } });
    expect(parsed.data).toMatchObject({
      themes: [],
      deMinimisReceivedCents: 0,
      company: { legalRepresentative: { locale: 'it' } },
    });
    expect(parsed.data?.submittedOn).toBeUndefined();
  });

  test('submittedOn is optional, and a date as YYYY-MM-DD when given', () => {
    expect(parse(applicationForm({ submittedOn: '2026-11-20' })).data?.submittedOn).toBe('2026-11-20');
    for (const bad of ['26/11/2026', '2026-02-30', '2026-11-20T10:00:00Z', '']) {
      expect(parse(applicationForm({ submittedOn: bad })).error?.issues).toEqual([
        expect.objectContaining({ path: ['submittedOn'], message: 'a date as YYYY-MM-DD' }),
      ]);
    }
  });

  // The implementing body is assigned later (ASSIGN_BODY); a form naming one was once accepted and ignored.
  test('a form with implementingBody is refused as an unknown field, and the refusal names it', () => {
    const result = parse({ ...applicationForm(), implementingBody: 'i3p' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['implementingBody'], path: [] }),
    ]);
    expect(invalid('application', result.error!).message).toBe(
      'invalid application: (root): Unrecognized key: "implementingBody"',
    );
  });

  test('unknown fields are refused inside the company too', () => {
    const form = applicationForm();
    const result = parse({ ...form, company: { ...form.company, pec: 'x@pec.it' } });
    expect(result.error?.issues).toEqual([expect.objectContaining({ keys: ['pec'], path: ['company'] })]);
  });
});

describe('machineRules', () => {
  test('the workflow carries only what the machine reads, in integer units', () => {
    const rules = machineRules(rules2023);
    expect(Object.keys(rules).sort()).toEqual([
      'commission',
      'deadlines',
      'interestSubsidy',
      'maxGrantShareBps',
      'minimumAccompanimentMinutes',
      'postAward',
      'reminders',
    ]);
    expect(rules.minimumAccompanimentMinutes).toBe(480);
    expect(rules.maxGrantShareBps).toBe(rules2023.grant.maxShareBps);
    expect(
      machineRules({ ...rules2023, accompaniment: { ...rules2023.accompaniment, minimumHours: 7.5 } }),
    ).toMatchObject({ minimumAccompanimentMinutes: 450 });
  });
});

describe('pre-project', () => {
  const rules = machineRules(rules2023);

  test('the eligible cost is the sum of the cost lines', () => {
    const costLines = [
      { description: 'tools', category: 'equipment', amountCents: 4_000_000 },
      { description: 'training', category: 'services', amountCents: 2_000_001 },
    ];
    expect(eligibleCostOf({ costLines })).toBe(6_000_001);
    expect(eligibleCostOf({ costLines: [] })).toBe(0);
  });

  test('the support is the grant plus the interest subsidy on the loan', () => {
    expect(supportOf(preProject(), rules)).toEqual({ subsidyCents: 0, totalCents: 4_000_000 });
    // 19,541 cents: worked in tests/unit/subsidy.test.ts (3 points off a 6% loan of EUR 12,000 over 12 months).
    const loan = { amountCents: 1_200_000, annualRateBps: 600, months: 12 };
    expect(supportOf(preProject({ loan }), rules)).toEqual({ subsidyCents: 19_541, totalCents: 4_019_541 });
  });

  test('a loan longer than the rules allow is a problem named after its field', () => {
    const months = rules.interestSubsidy.maxLoanMonths + 1;
    const problems = preProjectProblems(
      preProject({ loan: { amountCents: 1_200_000, annualRateBps: 600, months } }),
      rules,
    );
    expect(problems).toEqual([expect.stringMatching(/^loan\.months: /)]);
  });

  test('a valid pre-project has no problem, with or without a de minimis room that fits', () => {
    expect(preProjectProblems(preProject(), rules)).toEqual([]);
    expect(preProjectProblems(preProject(), rules, 4_000_000)).toEqual([]);
    expect(preProjectProblems(preProject(), rules, 3_999_999)).toEqual([
      expect.stringContaining('exceeds the de minimis room left to the company (3999999 cents)'),
    ]);
  });
});

describe('verifyHours', () => {
  const rules = { maxCountedMinutesPerDay: 480 };
  const when = { today: '2024-03-10', nowTime: '12:00', assignedOn: '2024-03-01' };
  let seq = 0;
  const logged = (date: string, start: string, end: string, more: Partial<LoggedSession> = {}): LoggedSession => ({
    id: `s${++seq}`,
    applicationId: 'app-1',
    consultant: 'Marco Bianchi',
    date,
    start,
    end,
    confirmed: true,
    ...more,
  });
  const verify = (own: LoggedSession[], elsewhere: LoggedSession[] = [], at = when) =>
    verifyHours(own, elsewhere, at, rules);

  test('an unconfirmed session does not count and does not block a confirmed one', () => {
    const pending = logged('2024-03-05', '09:00', '13:00', { confirmed: false });
    const confirmed = logged('2024-03-05', '10:00', '12:00');
    const verdict = verify([pending, confirmed]);
    expect(verdict.verifiedMinutes).toBe(120);
    expect(verdict.discarded).toEqual([
      { sessionId: pending.id, reason: '2024-03-05 09:00-13:00: is not yet confirmed by the company' },
    ]);
  });

  test("another company's unconfirmed session does not make the consultant busy", () => {
    const elsewhere = { ...logged('2024-03-05', '09:00', '13:00', { confirmed: false }), applicationId: 'app-2' };
    expect(verify([logged('2024-03-05', '09:00', '13:00')], [elsewhere]).verifiedMinutes).toBe(240);
  });

  // Both orders: the overlap test compares each session's start with the other's end.
  test.each([
    [
      ['09:00', '13:00'],
      ['13:00', '17:00'],
    ],
    [
      ['13:00', '17:00'],
      ['09:00', '13:00'],
    ],
  ])('adjacent sessions %p and %p do not overlap and both count', ([s1, e1], [s2, e2]) => {
    const v = verify([logged('2024-03-05', s1!, e1!), logged('2024-03-05', s2!, e2!)]);
    expect(v.verifiedMinutes).toBe(480);
    expect(v.discarded).toEqual([]);
  });

  test("a session overlapping the company's earlier one is discarded, naming it", () => {
    const first = logged('2024-03-05', '09:00', '11:00');
    const second = logged('2024-03-05', '10:00', '12:00');
    const v = verify([first, second]);
    expect(v.verifiedMinutes).toBe(120);
    expect(v.counted).toEqual([{ sessionId: first.id, minutes: 120 }]);
    expect(v.discarded).toEqual([
      { sessionId: second.id, reason: "2024-03-05 10:00-12:00: overlaps the company's session 2024-03-05 09:00-11:00" },
    ]);
  });

  test('the same session time on another day is no overlap', () => {
    expect(
      verify([logged('2024-03-05', '09:00', '11:00'), logged('2024-03-06', '09:00', '11:00')]).verifiedMinutes,
    ).toBe(240);
  });

  test("the consultant cannot be in another company's session at the same time", () => {
    const own = logged('2024-03-05', '10:00', '12:00');
    const v = verify([own], [logged('2024-03-05', '11:30', '12:30', { applicationId: 'app-2' })]);
    expect(v.verifiedMinutes).toBe(0);
    expect(v.discarded).toEqual([
      {
        sessionId: own.id,
        reason:
          "2024-03-05 10:00-12:00: consultant Marco Bianchi was in another company's session 2024-03-05 11:30-12:30",
      },
    ]);
  });

  test("another consultant's overlapping session elsewhere does not matter", () => {
    const v = verify(
      [logged('2024-03-05', '10:00', '12:00')],
      [logged('2024-03-05', '10:00', '12:00', { applicationId: 'app-2', consultant: 'Anna Verdi' })],
    );
    expect(v.verifiedMinutes).toBe(120);
  });

  test.each([
    ['a later day', '2024-03-11', '09:00', '10:00'],
    ['today, ending after now', '2024-03-10', '11:00', '12:30'],
  ])('a session on %s is in the future', (_, date, start, end) => {
    const s = logged(date, start, end);
    expect(verify([s])).toEqual({
      verifiedMinutes: 0,
      counted: [],
      discarded: [{ sessionId: s.id, reason: `${date} ${start}-${end}: is in the future` }],
    });
  });

  test('a session today that has already ended counts', () => {
    expect(verify([logged('2024-03-10', '10:00', '11:30')]).verifiedMinutes).toBe(90);
  });

  test('a session before the assignment is discarded; one on the assignment day counts', () => {
    const early = logged('2024-02-29', '09:00', '10:00');
    const v = verify([early, logged('2024-03-01', '09:00', '10:00')]);
    expect(v.verifiedMinutes).toBe(60);
    expect(v.discarded).toEqual([
      {
        sessionId: early.id,
        reason: '2024-02-29 09:00-10:00: is before the implementing body was assigned on 2024-03-01',
      },
    ]);
  });

  test('no more than 8 h count in a day, and the cut is explained', () => {
    const [morning, afternoon, evening] = [
      logged('2024-03-05', '08:00', '13:00'),
      logged('2024-03-05', '13:00', '18:00'),
      logged('2024-03-05', '18:00', '19:00'),
    ];
    const v = verify([morning!, afternoon!, evening!]);
    expect(v.verifiedMinutes).toBe(480);
    expect(v.counted).toEqual([
      { sessionId: morning!.id, minutes: 300 },
      { sessionId: afternoon!.id, minutes: 180 },
    ]);
    expect(v.discarded).toEqual([
      { sessionId: afternoon!.id, reason: '2024-03-05 13:00-18:00: only 180 of 300 minutes count, at most 8 h a day' },
      { sessionId: evening!.id, reason: '2024-03-05 18:00-19:00: only 0 of 60 minutes count, at most 8 h a day' },
    ]);
  });

  test('times with seconds, as the database returns them, are read the same way', () => {
    const v = verify([logged('2024-03-05', '09:00:00', '13:00:00'), logged('2024-03-05', '12:00:00', '14:00:00')]);
    expect(v.verifiedMinutes).toBe(240);
    expect(v.discarded[0]?.reason).toBe(
      "2024-03-05 12:00-14:00: overlaps the company's session 2024-03-05 09:00-13:00",
    );
  });
});

describe('sniffMediaType', () => {
  /** A zip local file header (30 bytes, stored, sizes left zero) followed by the entry's name and data. */
  const zipEntry = (name: string, data: string) => {
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(Buffer.byteLength(name, 'latin1'), 26);
    return Buffer.concat([header, Buffer.from(name + data, 'latin1')]);
  };
  const zip = (...entries: [string, string][]) => Buffer.concat(entries.map(([name, data]) => zipEntry(name, data)));
  // DER SEQUENCE with a two-byte length, then the content type OID: how a CAdES .p7m envelope starts.
  const der = (oidLastByte: number) =>
    Buffer.from([
      0x30,
      0x82,
      0x04,
      0x10,
      0x06,
      0x09,
      0x2a,
      0x86,
      0x48,
      0x86,
      0xf7,
      0x0d,
      0x01,
      0x07,
      oidLastByte,
      0xa0,
      0x82,
      0x04,
      0x01,
    ]);

  test.each<[string, Buffer, string | null]>([
    ['a PDF', pdfBytes(), 'application/pdf'],
    [
      'an ODT',
      zip(['mimetype', 'application/vnd.oasis.opendocument.text'], ['content.xml', '<office:document-content/>']),
      'application/vnd.oasis.opendocument.text',
    ],
    [
      'a DOCX',
      zip(['[Content_Types].xml', '<Types/>'], ['word/document.xml', '<w:document/>']),
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
    ['a signed .p7m (signedData)', der(0x02), 'application/pkcs7-mime'],
    [
      'a Windows executable',
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode', 'latin1'),
      null,
    ],
    ['an ODS spreadsheet', zip(['mimetype', 'application/vnd.oasis.opendocument.spreadsheet']), null],
    ['an XLSX workbook', zip(['[Content_Types].xml', '<Types/>'], ['xl/workbook.xml', '<workbook/>']), null],
    ['a plain zip', zip(['readme.txt', 'hello']), null],
    ['DER that is not signedData (plain data OID)', der(0x01), null],
    ['the signedData OID outside a DER SEQUENCE', Buffer.concat([Buffer.from([0x31]), der(0x02).subarray(1)]), null],
    ['a PDF header not at the start', Buffer.concat([Buffer.from(' '), pdfBytes()]), null],
    ['an empty file', Buffer.alloc(0), null],
  ])('%s -> %p', (_, bytes, expected) => {
    expect(sniffMediaType(bytes)).toBe(expected);
  });

  test('a view into a larger buffer is read from its own start', () => {
    const inner = pdfBytes();
    const outer = new Uint8Array(inner.length + 8);
    outer.set(inner, 8);
    expect(sniffMediaType(outer.subarray(8))).toBe('application/pdf');
  });
});
