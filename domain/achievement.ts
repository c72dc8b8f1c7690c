import { percent } from './subsidy';

/**
 * How far an impact indicator got: the share of the way from its baseline to its target reached by the measured value,
 * in basis points (10 000 = the target). Pure and deterministic.
 *
 * Indicators are decimals people typed (0.3 tonnes, 2.5 FTE). In floating point 0.3 of the way to a target of 0.4 is
 * 0.3 / 0.4 × 10 000 = 7 499.99…, which would floor to 74.99%. So each value is taken as the exact decimal its
 * shortest form shows and the share is computed on integers (BigInt), rounded down: an achievement is never
 * overstated, and 75% is 75%.
 */

export type Direction = 'higher_is_better' | 'lower_is_better' | 'none';

export interface IndicatorValues {
  baseline: number;
  target: number;
  measured: number;
}

export interface Achievement {
  /** 0 to 10 000. */
  bps: number;
  /** The measured value is at or beyond the target. */
  reached: boolean;
  /** Beyond the target: the share is capped at 100%. */
  beyondTarget: boolean;
  /** Moved away from the target, past the baseline: the share is 0%. */
  wrongSide: boolean;
  /** Which way is progress; `none` where the target equals the baseline. */
  direction: Direction;
  /** In words, for the report. */
  note: string;
}

const BPS = 10_000n;

interface Decimal {
  units: bigint;
  scale: number;
}

/** x = units / 10^scale exactly, read from the shortest decimal form JavaScript prints for it. */
function decimalOf(x: number): Decimal {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!match) throw new RangeError(`not a finite number: ${x}`);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let scale = fraction.length - Number(exponent);
  let units = BigInt(`${sign}${whole}${fraction}`);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units, scale };
}

const atScale = (d: Decimal, scale: number) => d.units * 10n ** BigInt(scale - d.scale);

export function achievementOf({ baseline, target, measured }: IndicatorValues): Achievement {
  for (const [name, v] of Object.entries({ baseline, target, measured }))
    if (!Number.isFinite(v)) throw new RangeError(`${name} must be a finite number, got ${v}`);
  const ds = [baseline, target, measured].map(decimalOf);
  const scale = Math.max(...ds.map((d) => d.scale));
  const [b, t, m] = ds.map((d) => atScale(d, scale)) as [bigint, bigint, bigint];

  // Without a direction nothing tells better from worse: only the target itself is reached.
  if (t === b) {
    const reached = m === t;
    return {
      bps: reached ? 10_000 : 0,
      reached,
      beyondTarget: false,
      wrongSide: false,
      direction: 'none',
      note: reached ? 'target equals baseline: reached' : `target equals baseline: not reached (measured ${measured})`,
    };
  }
  const direction: Direction = t > b ? 'higher_is_better' : 'lower_is_better';
  const span = t > b ? t - b : b - t;
  const progress = t > b ? m - b : b - m;
  if (progress < 0n) {
    return {
      bps: 0,
      reached: false,
      beyondTarget: false,
      wrongSide: true,
      direction,
      note:
        `measured ${measured} is on the wrong side of the baseline ${baseline} ` +
        `(${direction === 'higher_is_better' ? 'below' : 'above'} it): 0%`,
    };
  }
  if (progress > span) {
    return {
      bps: 10_000,
      reached: true,
      beyondTarget: true,
      wrongSide: false,
      direction,
      note: `measured ${measured} is beyond the target ${target}: capped at 100%`,
    };
  }
  const bps = Number((progress * BPS) / span);
  return {
    bps,
    reached: progress === span,
    beyondTarget: false,
    wrongSide: false,
    direction,
    note:
      progress === span
        ? 'target reached'
        : `${percent(bps)} of the way from the baseline ${baseline} to the target ${target}`,
  };
}
