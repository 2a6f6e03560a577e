/**
 * The local status page (`GET /_local/`): one self-contained HTML page (no external resources)
 * that polls `GET /_local/metrics` every second and draws the key figures — events in and out,
 * queue and DLQ depth, end-to-end lag, change-stream lag, recent errors — from the EMF metrics the
 * functions print and the runtime's own figures.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local status</title>
<style>
  :root { --bg:#0f172a; --panel:#1e293b; --text:#e2e8f0; --muted:#94a3b8; --in:#38bdf8; --out:#4ade80; --bad:#f87171; --warn:#fbbf24; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: baseline; gap: 12px; padding: 16px 24px 0; }
  h1 { font-size: 20px; margin: 0; }
  #status { color: var(--muted); font-size: 12px; }
  main { padding: 16px 24px 24px; display: grid; gap: 16px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; }
  .tile { background: var(--panel); border-radius: 8px; padding: 12px 14px; }
  .tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .tile .value { font-size: 26px; font-weight: 600; margin-top: 4px; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .tile .label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .tile.alert .value { color: var(--bad); }
  .tile .unit { font-size: 13px; color: var(--muted); font-weight: 400; }
  .panel { background: var(--panel); border-radius: 8px; padding: 12px 14px; }
  .panel h2 { font-size: 13px; margin: 0 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; font-weight: 600; }
  .legend span { margin-right: 14px; font-size: 12px; color: var(--muted); }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
  svg { width: 100%; height: 180px; display: block; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  td, th { text-align: left; padding: 4px 8px; border-bottom: 1px solid #334155; vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  .lvl-ERROR, .lvl-CRITICAL, .lvl-FAILED { color: var(--bad); }
  .lvl-WARN { color: var(--warn); }
  .empty { color: var(--muted); }
  .bars { display: grid; grid-template-columns: 130px 1fr 60px; gap: 6px 10px; align-items: center; font-size: 13px; }
  .bar { height: 12px; background: #334155; border-radius: 3px; overflow: hidden; }
  .bar > div { height: 100%; background: var(--bad); }
</style>
</head>
<body>
<header><h1 id="title">Local status</h1><span id="status">connecting…</span></header>
<main>
  <section class="tiles">
    <div class="tile" id="t-in"><div class="label">Events in</div><div class="value" data-k="in">–</div></div>
    <div class="tile" id="t-out"><div class="label">Events written</div><div class="value" data-k="out">–</div></div>
    <div class="tile" id="t-rej"><div class="label">Rejected</div><div class="value" data-k="rejected">–</div></div>
    <div class="tile" id="t-queue"><div class="label">Queue depth</div><div class="value" data-k="queue">–</div></div>
    <div class="tile" id="t-dlq"><div class="label">DLQ depth</div><div class="value" data-k="dlq">–</div></div>
    <div class="tile" id="t-lag50"><div class="label">Lag p50</div><div class="value"><span data-k="p50">–</span> <span class="unit">ms</span></div></div>
    <div class="tile" id="t-lag99"><div class="label">Lag p99</div><div class="value"><span data-k="p99">–</span> <span class="unit">ms</span></div></div>
    <div class="tile" id="t-stream" hidden><div class="label" title="change stream: write to processed, p50 / p99 over recent records (worst consumer); records waiting">Stream lag</div><div class="value"><span data-k="s50">–</span>/<span data-k="s99">–</span> <span class="unit">ms · <span data-k="spending">–</span> waiting</span></div></div>
    <div class="tile" id="t-fail"><div class="label" title="writer batch item failures">Item failures</div><div class="value" data-k="failures">–</div></div>
  </section>
  <section class="panel">
    <h2>Events per <span id="bucket">5</span> s — last <span id="window">5</span> min</h2>
    <div class="legend"><span><i style="background:var(--in)"></i>accepted</span><span><i style="background:var(--out)"></i>written</span><span><i style="background:var(--bad)"></i>rejected</span><span>top of scale: <b id="ymax">–</b> per interval</span></div>
    <svg id="chart" viewBox="0 0 600 180" preserveAspectRatio="none" role="img" aria-label="events per interval"></svg>
  </section>
  <section class="panel">
    <h2>Rejections by reason</h2>
    <div id="reasons" class="bars"><span class="empty">none</span></div>
  </section>
  <section class="panel">
    <h2>Recent errors and warnings</h2>
    <table><thead><tr><th>time</th><th>function</th><th>level</th><th>message</th><th>correlation id</th></tr></thead><tbody id="errors"><tr><td colspan="5" class="empty">none</td></tr></tbody></table>
  </section>
</main>
<script>
  const $ = (s) => document.querySelector(s);
  const set = (k, v) => { for (const el of document.querySelectorAll('[data-k="' + k + '"]')) el.textContent = v; };
  const fmt = (n) => n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en');
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const draw = (series) => {
    const svg = $('#chart');
    const b = series.buckets;
    const max = Math.max(1, ...b.map((x) => Math.max(x.accepted, x.written, x.rejected)));
    const w = 600 / b.length, h = 170;
    let out = '';
    for (let i = 0; i < 4; i++) out += '<line x1="0" x2="600" y1="' + (10 + (h * i) / 4) + '" y2="' + (10 + (h * i) / 4) + '" stroke="#334155" stroke-width="1"/>';
    b.forEach((x, i) => {
      const bw = Math.max(1, (w - 2) / 3);
      [['accepted', 'var(--in)'], ['written', 'var(--out)'], ['rejected', 'var(--bad)']].forEach(([k, colour], j) => {
        const bh = (x[k] / max) * h;
        if (bh > 0) out += '<rect x="' + (i * w + 1 + j * bw) + '" y="' + (180 - bh) + '" width="' + bw + '" height="' + bh + '" fill="' + colour + '"><title>' + x.t + ' ' + k + ' ' + x[k] + '</title></rect>';
      });
    });
    $('#ymax').textContent = max;
    svg.innerHTML = out;
    $('#bucket').textContent = series.bucketSeconds;
    $('#window').textContent = Math.round((series.bucketSeconds * b.length) / 60);
  };
  const refresh = async () => {
    try {
      const res = await fetch('metrics', { cache: 'no-store' });
      const m = await res.json();
      const t = m.totals || {};
      const d = m.dashboard || {};
      const total = (name) => (name ? t[name] || 0 : null);
      document.title = $('#title').textContent = d.title || 'Local status';
      set('in', fmt(total(d.in)));
      set('out', fmt(total(d.out)));
      set('rejected', fmt(total(d.rejected)));
      set('failures', fmt(total(d.failures)));
      const main = m.queues.filter((q) => q.role === 'queue').reduce((a, q) => a + q.visible + q.inFlight, 0);
      const dlq = m.queues.filter((q) => q.role === 'dlq').reduce((a, q) => a + q.visible + q.inFlight, 0);
      set('queue', fmt(main));
      set('dlq', fmt(dlq));
      $('#t-dlq').classList.toggle('alert', dlq > 0);
      $('#t-fail').classList.toggle('alert', (total(d.failures) || 0) > 0);
      const streams = m.streams || [];
      $('#t-stream').hidden = streams.length === 0;
      const worst = (k) => streams.reduce((a, x) => (x.lag[k] === null ? a : Math.max(a === null ? 0 : a, x.lag[k])), null);
      set('s50', fmt(worst('p50')));
      set('s99', fmt(worst('p99')));
      set('spending', fmt(streams.reduce((a, x) => a + x.pending, 0)));
      $('#t-stream').classList.toggle('alert', streams.some((x) => x.discardedRecords > 0 || x.iteratorAgeMs > 60000));
      set('p50', fmt(m.lag.p50));
      set('p99', fmt(m.lag.p99));
      draw(m.series);
      const reasons = Object.entries(m.rejectedByReason || {}).sort((a, b) => b[1] - a[1]);
      const rmax = Math.max(1, ...reasons.map((r) => r[1]));
      $('#reasons').innerHTML = reasons.length ? reasons.map(([k, v]) => '<span>' + esc(k) + '</span><div class="bar"><div style="width:' + (100 * v) / rmax + '%"></div></div><span>' + v + '</span>').join('') : '<span class="empty">none</span>';
      $('#errors').innerHTML = m.errors.length
        ? m.errors.map((e) => '<tr><td>' + esc(e.time.slice(11, 19)) + '</td><td>' + esc(e.fn) + '</td><td class="lvl-' + esc(e.level) + '">' + esc(e.level) + '</td><td>' + esc(e.message) + '</td><td>' + esc(e.correlationId || '') + '</td></tr>').join('')
        : '<tr><td colspan="5" class="empty">none</td></tr>';
      $('#status').textContent = 'live · updated ' + new Date().toLocaleTimeString('en-GB');
      document.body.dataset.loaded = 'true';
    } catch (e) {
      $('#status').textContent = 'disconnected (' + e.message + ')';
    }
  };
  refresh();
  setInterval(refresh, 1000);
</script>
</body>
</html>
`;
