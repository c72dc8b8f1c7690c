import { achievementOf } from '../../domain/achievement';

describe('achievementOf', () => {
  test.each([
    // [baseline, target, measured, bps]; each share worked by hand, rounded down.
    [0, 3, 2, 6_666], // 2 / 3 = 0.6666… → 6,666
    [0, 3, 2.5, 8_333], // 2.5 / 3 = 0.8333… → 8,333
    [10, 20, 15, 5_000], // 5 / 10
    [-4, 6, 1, 5_000], // from −4 to 6 is 10; 1 is 5 of the way
    [0, 1e-7, 5e-8, 5_000], // written with exponents by JavaScript
    [2, 5, 2, 0], // no change from the baseline: 0%, but not the wrong side
  ])('higher is better: baseline %p, target %p, measured %p → %p bps', (baseline, target, measured, bps) => {
    const a = achievementOf({ baseline, target, measured });
    expect(a).toMatchObject({ bps, reached: false, beyondTarget: false, wrongSide: false });
    expect(a.direction).toBe('higher_is_better');
  });

  test('lower is better: 120 t of waste down to a target of 80, measured 100, is half the way', () => {
    // way to go 120 − 80 = 40; done 120 − 100 = 20; 20 / 40 = 5,000 bps.
    expect(achievementOf({ baseline: 120, target: 80, measured: 100 })).toEqual({
      bps: 5_000,
      reached: false,
      beyondTarget: false,
      wrongSide: false,
      direction: 'lower_is_better',
      note: '50.00% of the way from the baseline 120 to the target 80',
    });
  });

  test('exactly the target is 100% and reached', () => {
    expect(achievementOf({ baseline: 0, target: 3, measured: 3 })).toMatchObject({
      bps: 10_000,
      reached: true,
      beyondTarget: false,
      note: 'target reached',
    });
    expect(achievementOf({ baseline: 120, target: 80, measured: 80 })).toMatchObject({ bps: 10_000, reached: true });
  });

  test.each([
    [0, 3, 5],
    [120, 80, 70],
  ])('beyond the target (baseline %p, target %p, measured %p) is capped at 100% and says so', (b, t, m) => {
    const a = achievementOf({ baseline: b, target: t, measured: m });
    expect(a).toMatchObject({ bps: 10_000, reached: true, beyondTarget: true, wrongSide: false });
    expect(a.note).toBe(`measured ${m} is beyond the target ${t}: capped at 100%`);
  });

  test('on the wrong side of the baseline is 0% and says so, whichever way is better', () => {
    expect(achievementOf({ baseline: 10, target: 20, measured: 8 })).toMatchObject({
      bps: 0,
      wrongSide: true,
      note: 'measured 8 is on the wrong side of the baseline 10 (below it): 0%',
    });
    expect(achievementOf({ baseline: 120, target: 80, measured: 130 })).toMatchObject({
      bps: 0,
      wrongSide: true,
      note: 'measured 130 is on the wrong side of the baseline 120 (above it): 0%',
    });
  });

  test('where the target equals the baseline it is simply reached or not', () => {
    expect(achievementOf({ baseline: 5, target: 5, measured: 5 })).toMatchObject({
      bps: 10_000,
      reached: true,
      direction: 'none',
      note: 'target equals baseline: reached',
    });
    for (const measured of [4, 6]) {
      expect(achievementOf({ baseline: 5, target: 5, measured })).toMatchObject({
        bps: 0,
        reached: false,
        beyondTarget: false,
        wrongSide: false,
        note: `target equals baseline: not reached (measured ${measured})`,
      });
    }
  });

  test('decimals are exact: 0.3 of a 0.4 target is 75%, not 74.99%', () => {
    // In floating point 0.3 / 0.4 × 10,000 = 7,499.999… and would floor to 7,499.
    expect(Math.floor((0.3 / 0.4) * 10_000)).toBe(7_499);
    expect(achievementOf({ baseline: 0, target: 0.4, measured: 0.3 }).bps).toBe(7_500);
    expect(achievementOf({ baseline: 0.1, target: 0.3, measured: 0.3 })).toMatchObject({ bps: 10_000, reached: true });
    // 0.15 on the way from 0.1 to 0.3: 0.05 / 0.2 = 2,500.
    expect(achievementOf({ baseline: 0.1, target: 0.3, measured: 0.15 }).bps).toBe(2_500);
  });

  test.each([NaN, Infinity, -Infinity])('refuses a measured value of %p', (measured) => {
    expect(() => achievementOf({ baseline: 0, target: 1, measured })).toThrow(RangeError);
  });
});
