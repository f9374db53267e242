/**
 * The live viewer (`GET /`): one self-contained page, no external requests
 * (its Content-Security-Policy forbids them). It subscribes to `/v1/viewer`, a
 * WebSocket that sends, for each processed frame, a JSON text message with the
 * statistics followed by a binary message with the overlay PNG (outlines over the
 * frame). The pause button freezes the display and tells the server to stop
 * sending (segmentation for API clients goes on).
 *
 * When the server wants a token, the page is opened as `/?token=TOKEN` (the URL
 * `samstar serve` prints) and passes the token on: as `Authorization: Bearer` to
 * its fetches, and as `?token=` to the WebSocket (browsers cannot set headers on
 * one). The page is served with `Referrer-Policy: no-referrer`.
 */
export const VIEWER_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

export const VIEWER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>samstar live</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg: #111418; --panel: #1a1f26; --text: #e6e9ee; --muted: #8b96a5; --accent: #4fc3f7; --bar: #4fc3f7; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 16px; background: var(--panel); border-bottom: 1px solid #2a313b; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  #status { color: var(--muted); font-size: 13px; }
  #status.live { color: #81c784; }
  #status.down { color: #e57373; }
  button { margin-left: auto; background: #263040; color: var(--text); border: 1px solid #3a4656; border-radius: 6px; padding: 6px 16px; font: inherit; cursor: pointer; }
  button:hover { background: #2f3b4e; }
  button.paused { background: #4a3b1c; border-color: #8a6d2f; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 16px; padding: 16px; }
  #stage { background: #000; border-radius: 8px; display: flex; align-items: center; justify-content: center; height: calc(100vh - 90px); min-height: 300px; overflow: hidden; }
  #overlay { width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated; }
  #placeholder { color: var(--muted); padding: 40px; text-align: center; }
  aside { display: flex; flex-direction: column; gap: 12px; }
  .card { background: var(--panel); border-radius: 8px; padding: 12px 14px; }
  .card h2 { margin: 0 0 8px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
  .big { font-size: 40px; font-weight: 700; line-height: 1; }
  .row { display: flex; justify-content: space-between; gap: 8px; }
  .row span:first-child { color: var(--muted); }
  .stats { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; }
  table { width: 100%; border-collapse: collapse; font-size: 12px; }
  td { padding: 2px 0; vertical-align: top; }
  td:first-child { color: var(--muted); padding-right: 8px; }
  td:last-child { text-align: right; font-variant-numeric: tabular-nums; word-break: break-all; }
  #histogram { width: 100%; height: 140px; display: block; }
  .axis { fill: var(--muted); font-size: 10px; }
  .num { font-variant-numeric: tabular-nums; }
  @media (max-width: 800px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body data-frames="0">
<header>
  <h1>samstar live</h1>
  <span id="status">connecting…</span>
  <span id="source" class="num" style="color: var(--muted)"></span>
  <button id="pause" type="button">Pause</button>
</header>
<main>
  <section id="stage"><div id="placeholder">waiting for frames — POST /v1/segment or stream to /v1/stream</div><canvas id="overlay" hidden></canvas></section>
  <aside>
    <div class="card">
      <h2>Particles</h2>
      <div class="row"><div class="big num" id="count">–</div><div style="text-align:right"><div class="num" id="coverage"></div><div class="num" id="reward"></div></div></div>
    </div>
    <div class="card">
      <h2>Size histogram (equivalent diameter, px)</h2>
      <svg id="histogram" viewBox="0 0 300 140" preserveAspectRatio="none" role="img" aria-label="size histogram"></svg>
    </div>
    <div class="card stats">
      <div class="row"><span>latency</span><span class="num" id="latency">–</span></div>
      <div class="row"><span>segment</span><span class="num" id="segment">–</span></div>
      <div class="row"><span>frames/s</span><span class="num" id="fps">–</span></div>
      <div class="row"><span>dropped</span><span class="num" id="dropped">–</span></div>
      <div class="row"><span>frame</span><span class="num" id="frame-id">–</span></div>
      <div class="row"><span>size</span><span class="num" id="size">–</span></div>
    </div>
    <div class="card">
      <h2>Knobs <span id="chooser" style="text-transform:none;letter-spacing:0"></span></h2>
      <table id="knobs"></table>
    </div>
  </aside>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $('overlay');
  const ctx = canvas.getContext('2d');
  let paused = false;
  let pendingStats = null;
  let socket = null;
  let retry = 500;
  let frames = 0;
  const state = { frames: 0, last: null };
  window.samstarViewer = state;
  const token = new URLSearchParams(location.search).get('token');

  const fmtMs = (v) => (typeof v === 'number' ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) + ' ms' : '–');
  const fmt = (v) => (typeof v === 'number' ? String(Number.isInteger(v) ? v : Number(v.toPrecision(4))) : String(v));

  fetch('/v1/policy', token ? { headers: { authorization: 'Bearer ' + token } } : {}).then((r) => r.json()).then((p) => {
    const c = p.chooser || {};
    $('chooser').textContent = '· ' + (c.kind || '') + (c.source ? ' (' + c.source + ')' : '');
    if (c.knobs && !state.last) showKnobs(c.knobs);
  }).catch(() => {});

  function setStatus(text, cls) { const s = $('status'); s.textContent = text; s.className = cls || ''; }

  function connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/viewer' + (token ? '?token=' + encodeURIComponent(token) : '');
    socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => { retry = 500; setStatus(paused ? 'paused' : 'live', paused ? '' : 'live'); if (paused) send({ type: 'pause', paused: true }); };
    socket.onclose = () => { setStatus('disconnected — retrying', 'down'); setTimeout(connect, retry); retry = Math.min(retry * 2, 5000); };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') { pendingStats = JSON.parse(event.data); return; }
      const stats = pendingStats; pendingStats = null;
      if (paused || !stats) return;
      show(stats, event.data);
    };
  }
  function send(message) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(message)); }

  async function show(stats, png) {
    const bitmap = await createImageBitmap(new Blob([png], { type: 'image/png' }));
    if (paused) return;
    canvas.width = bitmap.width; canvas.height = bitmap.height;
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    canvas.hidden = false; $('placeholder').hidden = true;
    $('count').textContent = String(stats.count);
    $('coverage').textContent = typeof stats.area_fraction === 'number' ? (100 * stats.area_fraction).toFixed(1) + '% covered' : '';
    $('reward').textContent = stats.reward ? 'reward ' + fmt(stats.reward.total) : '';
    $('latency').textContent = fmtMs(stats.latency_ms);
    $('segment').textContent = fmtMs(stats.segment_ms);
    $('fps').textContent = typeof stats.fps === 'number' ? stats.fps.toFixed(2) : '–';
    $('dropped').textContent = String(stats.dropped_total ?? 0);
    $('frame-id').textContent = String(stats.id);
    $('size').textContent = stats.width + '×' + stats.height;
    $('source').textContent = stats.mode + ' frame #' + stats.seq;
    showKnobs(stats.knobs || {});
    histogram(stats.diameters || []);
    frames++;
    state.frames = frames; state.last = stats;
    document.body.dataset.frames = String(frames);
  }

  function showKnobs(knobs) {
    const table = $('knobs');
    table.replaceChildren();
    for (const [k, v] of Object.entries(knobs)) {
      const tr = document.createElement('tr');
      const a = document.createElement('td'); a.textContent = k;
      const b = document.createElement('td'); b.textContent = fmt(v);
      tr.append(a, b); table.append(tr);
    }
  }

  function histogram(values) {
    const svg = $('histogram');
    const NS = 'http://www.w3.org/2000/svg';
    svg.replaceChildren();
    const W = 300, H = 140, left = 4, bottom = 18, top = 12;
    if (values.length === 0) {
      const t = document.createElementNS(NS, 'text'); t.setAttribute('x', '150'); t.setAttribute('y', '70'); t.setAttribute('text-anchor', 'middle'); t.setAttribute('class', 'axis'); t.textContent = 'no particles';
      svg.append(t); return;
    }
    const max = Math.max(...values);
    const bins = Math.min(20, Math.max(5, Math.ceil(Math.sqrt(values.length))));
    const hi = Math.max(1, Math.ceil(max));
    const counts = new Array(bins).fill(0);
    for (const v of values) counts[Math.min(bins - 1, Math.floor((v / hi) * bins))]++;
    const peak = Math.max(...counts);
    const bw = (W - 2 * left) / bins;
    counts.forEach((c, i) => {
      const h = peak ? ((H - bottom - top) * c) / peak : 0;
      const r = document.createElementNS(NS, 'rect');
      r.setAttribute('x', String(left + i * bw + 1)); r.setAttribute('width', String(Math.max(1, bw - 2)));
      r.setAttribute('y', String(H - bottom - h)); r.setAttribute('height', String(h));
      r.setAttribute('fill', 'var(--bar)');
      const title = document.createElementNS(NS, 'title');
      title.textContent = (i * hi / bins).toFixed(1) + '–' + ((i + 1) * hi / bins).toFixed(1) + ' px: ' + c;
      r.append(title); svg.append(r);
    });
    const label = (x, anchor, text, y) => { const t = document.createElementNS(NS, 'text'); t.setAttribute('x', String(x)); t.setAttribute('y', String(y)); t.setAttribute('text-anchor', anchor); t.setAttribute('class', 'axis'); t.textContent = text; svg.append(t); };
    label(left, 'start', '0', H - 4);
    label(W / 2, 'middle', String(Math.round(hi / 2)), H - 4);
    label(W - left, 'end', String(hi) + ' px', H - 4);
    label(W - left, 'end', peak + ' per bin', 10);
  }

  $('pause').addEventListener('click', () => {
    paused = !paused;
    const b = $('pause');
    b.textContent = paused ? 'Resume' : 'Pause';
    b.classList.toggle('paused', paused);
    setStatus(paused ? 'paused' : 'live', paused ? '' : 'live');
    send({ type: 'pause', paused });
  });

  connect();
})();
</script>
</body>
</html>
`;
