import { fullRecoveryCents, mulDivFloor, verifiedSupport, type VerificationInput } from '../../domain/verification';

/** The fixture pre-project's money: EUR 40,000 grant, EUR 195.41 interest subsidy, both disbursed. */
const base: VerificationInput = {
  admittedGrantCents: 4_000_000,
  admittedSubsidyCents: 19_541,
  disbursedCents: 4_019_541,
  lines: [
    { plannedCents: 5_000_000, acceptedCents: 5_000_000 },
    { plannedCents: 3_000_000, acceptedCents: 3_000_000 },
  ],
  grantShareBps: 5_000,
};

const money = (input: VerificationInput) => {
  const { explanation: _, ...figures } = verifiedSupport(input);
  return figures;
};

describe('verifiedSupport', () => {
  test('every cost accepted justifies everything disbursed', () => {
    // planned = accepted = 8,000,000; grant min(4,000,000, 8,000,000 × 5000 / 10000 = 4,000,000) = 4,000,000;
    // subsidy floor(19,541 × 8,000,000 / 8,000,000) = 19,541; justified 4,019,541 = disbursed: nothing back.
    expect(money(base)).toEqual({
      plannedCostCents: 8_000_000,
      acceptedCostCents: 8_000_000,
      acceptedShareBps: 10_000,
      justifiedGrantCents: 4_000_000,
      justifiedSubsidyCents: 19_541,
      justifiedCents: 4_019_541,
      disbursedCents: 4_019_541,
      recoveryCents: 0,
    });
  });

  test('a cut line lowers grant and subsidy by the same accepted share, and the excess comes back', () => {
    // accepted 5,000,000 + 2,000,000 = 7,000,000 (share 7/8 = 8,750 bps);
    // grant min(4,000,000, 7,000,000 × 5000 / 10000 = 3,500,000) = 3,500,000;
    // subsidy floor(19,541 × 7,000,000 / 8,000,000) = floor(136,787 / 8 = 17,098.375) = 17,098;
    // justified 3,517,098; to recover 4,019,541 − 3,517,098 = 502,443.
    const cut = verifiedSupport({
      ...base,
      lines: [base.lines[0]!, { plannedCents: 3_000_000, acceptedCents: 2_000_000 }],
    });
    expect(cut).toMatchObject({
      acceptedCostCents: 7_000_000,
      acceptedShareBps: 8_750,
      justifiedGrantCents: 3_500_000,
      justifiedSubsidyCents: 17_098,
      justifiedCents: 3_517_098,
      recoveryCents: 502_443,
    });
    expect(cut.explanation).toEqual([
      'Accepted costs EUR 70,000.00 of the EUR 80,000.00 planned (87.50%).',
      'Grant justified: 50.00% of the accepted costs, EUR 35,000.00 of the EUR 40,000.00 admitted.',
      'Interest subsidy justified: EUR 170.98 of the EUR 195.41 admitted, scaled by the accepted share of the costs.',
      'Justified EUR 35,170.98 against EUR 40,195.41 disbursed: EUR 5,024.43 to recover.',
    ]);
  });

  test('a grant asked below the share keeps its margin: a small cut costs nothing', () => {
    // admitted grant 3,000,000 (37.5% of 8,000,000); accepted 7,000,000 → 50% is 3,500,000 ≥ 3,000,000:
    // the grant stays 3,000,000; no subsidy; disbursed 3,000,000 → nothing back.
    expect(
      money({
        ...base,
        admittedGrantCents: 3_000_000,
        admittedSubsidyCents: 0,
        disbursedCents: 3_000_000,
        lines: [base.lines[0]!, { plannedCents: 3_000_000, acceptedCents: 2_000_000 }],
      }),
    ).toMatchObject({ justifiedGrantCents: 3_000_000, justifiedSubsidyCents: 0, recoveryCents: 0 });
  });

  test('every division rounds down to the cent', () => {
    // accepted 1,234,567 of 2,000,000: grant floor(1,234,567 × 5000 / 10000 = 617,283.5) = 617,283;
    // subsidy floor(10,001 × 1,234,567 / 2,000,000 = 12,346,904,567 / 2,000,000 = 6,173.45…) = 6,173;
    // justified 623,456; disbursed 1,010,001 → 386,545 back; share floor(1,234,567 × 10000 / 2,000,000) = 6,172 bps.
    expect(
      money({
        admittedGrantCents: 1_000_000,
        admittedSubsidyCents: 10_001,
        disbursedCents: 1_010_001,
        lines: [{ plannedCents: 2_000_000, acceptedCents: 1_234_567 }],
        grantShareBps: 5_000,
      }),
    ).toMatchObject({
      acceptedShareBps: 6_172,
      justifiedGrantCents: 617_283,
      justifiedSubsidyCents: 6_173,
      justifiedCents: 623_456,
      recoveryCents: 386_545,
    });
  });

  test('less disbursed than admitted: what the accepted costs justify is compared with what was paid', () => {
    // disbursed 3,000,000 of 4,000,000 admitted; accepted 6,000,000 → grant 3,000,000, subsidy
    // floor(19,541 × 6/8 = 14,655.75) = 14,655; justified 3,014,655 > 3,000,000: nothing back, nothing more paid.
    expect(
      money({
        ...base,
        disbursedCents: 3_000_000,
        lines: [base.lines[0]!, { plannedCents: 3_000_000, acceptedCents: 1_000_000 }],
      }),
    ).toMatchObject({ justifiedGrantCents: 3_000_000, justifiedSubsidyCents: 14_655, recoveryCents: 0 });
  });

  test('costs accepted above the plan never justify more than was admitted', () => {
    // accepted 9,000,000 of 8,000,000: grant min(4,000,000, 4,500,000); subsidy min(19,541, floor(19,541 × 9/8 =
    // 21,983.625)); the share shown is capped at 100%.
    expect(
      money({ ...base, lines: [base.lines[0]!, { plannedCents: 3_000_000, acceptedCents: 4_000_000 }] }),
    ).toMatchObject({
      acceptedCostCents: 9_000_000,
      acceptedShareBps: 10_000,
      justifiedGrantCents: 4_000_000,
      justifiedSubsidyCents: 19_541,
      recoveryCents: 0,
    });
  });

  test('nothing accepted: everything disbursed comes back', () => {
    const none = money({ ...base, lines: base.lines.map((l) => ({ ...l, acceptedCents: 0 })) });
    expect(none).toMatchObject({ justifiedCents: 0, recoveryCents: 4_019_541, acceptedShareBps: 0 });
  });

  test('the subsidy ratio is exact beyond floating point', () => {
    // Everything accepted must give the whole subsidy back: 3,963,653 × 9,958,657,503 / 9,958,657,503 = 3,963,653.
    // The product (3.9e16) is above 2^53: in floating point it rounds, and the quotient floors to a cent less.
    expect(mulDivFloor(3_963_653, 9_958_657_503, 9_958_657_503)).toBe(3_963_653);
    expect(Math.floor((3_963_653 * 9_958_657_503) / 9_958_657_503)).toBe(3_963_652);
  });

  test.each<[string, Partial<VerificationInput>]>([
    ['no cost lines', { lines: [] }],
    ['a fractional amount', { disbursedCents: 10.5 }],
    ['a negative accepted amount', { lines: [{ plannedCents: 100, acceptedCents: -1 }] }],
    ['a planned cost of zero', { lines: [{ plannedCents: 0, acceptedCents: 0 }] }],
  ])('refuses %s as a programming error', (_, overrides) => {
    expect(() => verifiedSupport({ ...base, ...overrides })).toThrow(RangeError);
  });
});

test('a revocation or withdrawal recovers everything disbursed', () => {
  expect(fullRecoveryCents(4_019_541)).toBe(4_019_541);
  expect(() => fullRecoveryCents(-1)).toThrow(RangeError);
});
