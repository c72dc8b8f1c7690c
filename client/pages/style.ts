/** The pages' one stylesheet, served from /pages/style.css (the Content-Security-Policy allows no inline style). */
export const STYLESHEET = `
:root { --ink: #1d2330; --muted: #4f5666; --line: #d5d9e2; --paper: #ffffff; --wash: #f4f6f9;
  --brand: #14507a; --brand-dark: #0d3a5a; --ok: #1b6b35; --ok-wash: #e7f4ea; --bad: #a4161a; --bad-wash: #fdecec;
  --warn-wash: #fff6dc; font-size: 100%; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash); line-height: 1.5; }
a { color: var(--brand); }
a:hover { color: var(--brand-dark); }
:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
.skip:focus { left: 1rem; }
header.top { background: var(--brand); color: #fff; }
header.top .bar { max-width: 64rem; margin: 0 auto; padding: .75rem 1.25rem; display: flex; flex-wrap: wrap;
  align-items: center; gap: .5rem 1.5rem; }
header.top a { color: #fff; }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; letter-spacing: .01em; }
.brand small { font-weight: 400; opacity: .9; margin-left: .4rem; }
header.top nav { margin-left: auto; display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; }
header.top nav form { margin: 0; }
header.top .who { opacity: .95; }
.linklike { background: none; border: 1px solid rgba(255,255,255,.7); color: #fff; border-radius: 4px;
  padding: .2rem .6rem; font: inherit; cursor: pointer; }
main { max-width: 64rem; margin: 1.5rem auto 3rem; padding: 0 1.25rem; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 1.25rem 1.5rem;
  margin: 0 0 1.25rem; }
.card > h2:first-child, .card > h3:first-child { margin-top: 0; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; line-height: 1.25; }
h2 { font-size: 1.25rem; margin: 1.25rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
.lede { color: var(--muted); margin: 0 0 1.25rem; }
.narrow { max-width: 36rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 500; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; background: var(--paper); }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .9rem; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
.badge { display: inline-block; border-radius: 999px; padding: .05rem .6rem; font-size: .85rem; font-weight: 600;
  background: var(--wash); border: 1px solid var(--line); white-space: nowrap; }
.badge.ok { background: var(--ok-wash); color: var(--ok); border-color: #9fd0ad; }
.badge.bad { background: var(--bad-wash); color: var(--bad); border-color: #f0b3b3; }
.badge.wait { background: var(--warn-wash); color: #6b4e00; border-color: #ecd48a; }
.notice { border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1.25rem; border: 1px solid; }
.notice.ok { background: var(--ok-wash); border-color: #9fd0ad; color: #0f4a23; }
.notice.bad { background: var(--bad-wash); border-color: #f0b3b3; color: #6e0e11; }
.notice.info { background: #eaf2fa; border-color: #b7cfe6; color: #0d3a5a; }
.notice p { margin: .25rem 0; }
form { margin: 0; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem 1rem; margin: 0 0 1rem; }
legend { font-weight: 600; padding: 0 .35rem; }
.field { margin: 0 0 .9rem; }
.field label, .label { display: block; font-weight: 600; margin-bottom: .2rem; }
.hint { display: block; color: var(--muted); font-size: .9rem; margin: 0 0 .3rem; font-weight: 400; }
input[type=text], input[type=email], input[type=date], input[type=time], input[type=number], input[type=password],
select, textarea { font: inherit; color: inherit; width: 100%; max-width: 32rem; padding: .45rem .55rem;
  border: 1px solid #8a93a5; border-radius: 4px; background: #fff; }
input[type=file] { font: inherit; }
textarea { min-height: 6rem; max-width: 100%; }
.row-grid { display: grid; gap: .5rem .75rem; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr));
  border-top: 1px dashed var(--line); padding-top: .75rem; margin-top: .75rem; }
.row-grid .wide { grid-column: 1 / -1; }
.row-grid input, .row-grid select { max-width: none; }
.choices { display: flex; flex-wrap: wrap; gap: .35rem 1.25rem; }
.choices label { font-weight: 400; display: inline-flex; gap: .4rem; align-items: center; }
.error { color: var(--bad); font-weight: 600; margin: .25rem 0 0; display: block; }
.invalid input, .invalid select, .invalid textarea { border-color: var(--bad); border-width: 2px; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1rem; align-items: center; }
button, .button { font: inherit; font-weight: 600; border-radius: 6px; padding: .55rem 1.1rem; cursor: pointer;
  border: 2px solid var(--brand); background: var(--brand); color: #fff; text-decoration: none; display: inline-block; }
button:hover, .button:hover { background: var(--brand-dark); border-color: var(--brand-dark); color: #fff; }
button.secondary { background: #fff; color: var(--brand); }
button.secondary:hover { background: #eaf2fa; color: var(--brand-dark); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button.danger:hover { background: var(--bad-wash); color: #6e0e11; }
.big { font-size: 1.1rem; padding: .75rem 1.5rem; }
.diff del { background: var(--bad-wash); text-decoration: line-through; }
.diff ins { background: var(--ok-wash); text-decoration: none; }
details summary { cursor: pointer; font-weight: 600; }
.criterion { border-top: 1px solid var(--line); padding-top: .75rem; margin-top: .75rem; }
.criterion input { max-width: 8rem; }
.meter { font-variant-numeric: tabular-nums; }
.chart-pair { margin: 1rem 0 1.75rem; }
figure.chart { margin: 0 0 .5rem; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
table.figures { font-size: .9rem; }
table.figures th, table.figures td { padding: .45rem .5rem; }
table.figures th.num { white-space: normal; }
.row-grid.pairs { grid-template-columns: repeat(2, minmax(0, 1fr)); }
@media (max-width: 40rem) { .row-grid.pairs { grid-template-columns: 1fr; } }
.nowrap { white-space: nowrap; }
.row-title { margin: 0; }
footer.bottom { max-width: 64rem; margin: 0 auto 2rem; padding: 0 1.25rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 40rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .4rem; } }
`;
