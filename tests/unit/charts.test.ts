import { achievementChart, escapeXml, impactCharts, moneyChart, statusChart } from '../../client/pages/charts';
import { impactReport, type FundedProjectFigures } from '../../domain/impact';

const text = { id: 'chart-1', title: 'Achievement per theme', description: 'Share of the way to the targets.' };

/** Every tag closed in order, every attribute quoted: enough to know a browser will not guess. */
function expectWellFormed(svg: string) {
  const stack: string[] = [];
  for (const [, closing, name, attributes, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)([^>]*?)(\/?)>/g)) {
    expect(attributes).toMatch(/^(\s+[A-Za-z-]+="[^"<>]*")*\s*$/);
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  // Nothing but entities may carry an ampersand; no raw angle bracket outside tags.
  expect(svg.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39);)/);
}

const widthOf = (svg: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<rect class="${cls}" [^>]*width="(\\d+)"`, 'g'))].map((m) => Number(m[1]));

describe('achievementChart', () => {
  const svg = achievementChart(
    [
      { label: 'employment', bps: 10_000, note: '2 of 2 indicators measured' },
      { label: 'environment', bps: 5_000 },
      { label: 'community wellbeing', bps: null },
    ],
    text,
  );

  test('is one accessible image, named by its title and described with every figure', () => {
    expect(
      svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-1-title chart-1-desc"'),
    ).toBe(true);
    expect(svg).toContain('<title id="chart-1-title">Achievement per theme</title>');
    expect(svg).toContain(
      '<desc id="chart-1-desc">Share of the way to the targets. employment: 100.00% (2 of 2 indicators measured). ' +
        'environment: 50.00%. community wellbeing: not measured.</desc>',
    );
    expectWellFormed(svg);
  });

  test('bars are proportional to the achievement; nothing measured draws no bar but says so', () => {
    const [full, half] = widthOf(svg, 'bar');
    expect(widthOf(svg, 'bar')).toHaveLength(2);
    expect(half).toBe(Math.round(full! / 2));
    expect(widthOf(svg, 'track')).toEqual([full, full, full]);
    expect(svg).toContain('>not measured</text>');
  });
});

describe('escaping', () => {
  test('every text from data is escaped, in titles, descriptions and labels', () => {
    const svg = statusChart([{ label: '<script>alert("x")</script> & co', count: 2 }], {
      id: 'status',
      title: 'Status "live" <b>',
      description: "Projects' states & more",
    });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(svg).toContain('<title id="status-title">Status &quot;live&quot; &lt;b&gt;</title>');
    expect(svg).toContain('Projects&#39; states &amp; more');
    expectWellFormed(svg);
  });

  test('an id that could break out of its attribute is refused', () => {
    expect(() => statusChart([], { ...text, id: 'x" onload="alert(1)' })).toThrow(RangeError);
    expect(() => statusChart([], { ...text, id: '1abc' })).toThrow(RangeError);
  });

  test('escapeXml', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f');
  });
});

describe('moneyChart', () => {
  const svg = moneyChart(
    [
      { label: 'employment', grantedCents: 6_000_000, disbursedCents: 6_000_000, recoveredCents: 300_000 },
      { label: 'environment', grantedCents: 3_000_000, disbursedCents: 1_500_000, recoveredCents: 0 },
    ],
    { id: 'money', title: 'Money per theme', description: 'Granted, disbursed, recovered.' },
  );

  test('three series on one scale, with a legend, euros written out', () => {
    const granted = widthOf(svg, 'bar granted');
    const disbursed = widthOf(svg, 'bar disbursed');
    expect(granted[1]).toBe(Math.round(granted[0]! / 2));
    expect(disbursed[1]).toBe(Math.round(granted[0]! / 4));
    // A zero draws no bar; its amount is still written.
    expect(widthOf(svg, 'bar recovered')).toHaveLength(1);
    expect(svg.match(/<rect class="legend"/g)).toHaveLength(3);
    for (const word of ['granted', 'disbursed', 'recovered', 'EUR 60,000.00', 'EUR 3,000.00', 'EUR 0.00'])
      expect(svg).toContain(`>${word}</text>`);
    expect(svg).toContain('environment: granted EUR 30,000.00, disbursed EUR 15,000.00, recovered EUR 0.00.</desc>');
    expectWellFormed(svg);
  });
});

describe('impactCharts', () => {
  const projects: FundedProjectFigures[] = [
    {
      callId: 'innosocialmetro-2023',
      themes: ['employment', 'urban_regeneration'],
      status: 'closed',
      indicators: [{ name: 'Jobs', theme: 'employment', unit: 'FTE', baseline: 0, target: 4, measured: 3 }],
      grantedCents: 1_000_000,
      disbursedCents: 1_000_000,
      recoveredCents: 0,
    },
    {
      callId: 'innosocialmetro-2023',
      themes: ['employment'],
      status: 'in_progress',
      indicators: [{ name: 'Hires', theme: 'employment', unit: 'people', baseline: 0, target: 2, measured: null }],
      grantedCents: 500_000,
      disbursedCents: 500_000,
      recoveredCents: 0,
    },
  ];
  const charts = impactCharts(impactReport(projects));

  test('achievement per theme, from the report', () => {
    // employment: one measured indicator, 3 of 4 = 7,500 bps; urban regeneration: none.
    expect(charts.achievement).toContain(
      'employment: 75.00% (1 of 2 indicators measured). urban regeneration: not measured (0 of 0 indicators measured).',
    );
  });

  test('money per theme and the statuses that occur', () => {
    expect(charts.money).toContain('employment: granted EUR 15,000.00');
    expect(charts.statuses).toContain('in progress: 1. closed: 1.</desc>');
    for (const svg of Object.values(charts)) expectWellFormed(svg);
  });

  test('ids are distinct, so the three fit in one page', () => {
    const ids = Object.values(charts).flatMap((svg) => [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
