// The sync console's script: plain ES module, no dependencies, no build step. It only reads and acts
// through the admin API with the session cookie (sent automatically; never visible to this script)
// and the `x-console: 1` header the service requires on cookie-authenticated requests. Everything
// shown is set with textContent, never parsed as HTML.

const $ = (id) => document.getElementById(id);
const FAST_MS = 1500;
const SLOW_MS = 10000;

let role = null;
let timer = null;
let busy = false;

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { 'x-console': '1' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  return { status: response.status, ok: response.ok, data };
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    if (cell instanceof Node) {
      const td = document.createElement('td');
      td.append(cell);
      tr.append(td);
    } else if (cell && typeof cell === 'object') {
      tr.append(el('td', cell.text, cell.className));
    } else {
      tr.append(el('td', cell));
    }
  }
  return tr;
}

function badge(text) {
  return el('span', text, `badge ${text}`);
}

function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function notice(text) {
  $('notice').textContent = text;
}

// ---- sign-in ----

function showSignIn(message) {
  stopPolling();
  role = null;
  $('dashboard').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
  $('role').textContent = '';
  $('token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = $('token').value;
  const result = await api('POST', '/console/session', { token });
  $('token').value = '';
  if (!result.ok) {
    $('sign-in-error').textContent = result.status === 401 ? 'That token is not valid.' : 'Sign-in failed.';
    return;
  }
  await enter(result.data.role);
}

async function signOut() {
  await api('DELETE', '/console/session');
  showSignIn('Signed out.');
}

async function enter(signedInRole) {
  role = signedInRole;
  $('sign-in').hidden = true;
  $('dashboard').hidden = false;
  $('sign-out').hidden = false;
  $('role').textContent = `signed in as ${role}`;
  for (const node of document.querySelectorAll('.operator-only')) node.hidden = role !== 'operator';
  $('main').focus();
  await refresh();
}

// ---- rendering ----

function renderHealth(health) {
  const status = $('health-status');
  status.textContent = health.status;
  status.className = `badge ${health.status}`;
  const rows = $('health-rows');
  rows.replaceChildren();
  for (const [name, check] of Object.entries(health.services)) {
    let detail = '';
    if ('latency' in check) detail = `${check.latency} ms`;
    if ('pending' in check) detail = `${check.pending} pending, ${check.failed} dead-lettered`;
    if ('nextRun' in check)
      detail = check.paused ? 'paused by an operator' : `next poll ${when(check.nextRun)}`;
    rows.append(row([name, badge(check.status), detail]));
  }
}

function renderControl(overview) {
  const pause = overview.pause;
  $('pause-state').textContent = pause.paused
    ? `Paused since ${when(pause.since)} by ${pause.by}. Scheduled polls, the journey pass and reconciliation are skipped; manual runs still work.`
    : `Running: a poll every ${overview.scheduler.pollIntervalSeconds} s.`;
  $('next-run').textContent = overview.scheduler.running
    ? `A ${overview.scheduler.running} job is running.`
    : overview.scheduler.nextRun && !pause.paused
      ? `Next poll: ${when(overview.scheduler.nextRun)}.`
      : '';
  $('pause').disabled = pause.paused;
  $('resume').disabled = !pause.paused;
  const running = Boolean(overview.scheduler.running);
  $('run-incremental').disabled = running;
  $('run-backfill').disabled = running;
}

function renderProgress(p) {
  const bar = $('run-progress');
  if (!p.kind) {
    $('run-state').textContent = 'No run since the service started.';
  } else if (p.running) {
    $('run-state').textContent =
      `A ${p.kind} run started ${when(p.startedAt)}: ${p.readTotal} records read, ${p.writtenTotal} written.`;
  } else {
    $('run-state').textContent =
      `Last ${p.kind} run ${p.status} at ${when(p.finishedAt)}: ${p.readTotal} records read, ${p.writtenTotal} written.`;
  }
  const fraction = p.readFraction ?? (p.kind && !p.running ? 1 : 0);
  bar.value = fraction;
  bar.textContent = `${Math.round(fraction * 100)} %`;
  $('run-progress-label').textContent =
    `Records read: ${Math.round(fraction * 100)} % of the totals Cliniko reported`;
  $('run-eta').textContent =
    p.etaSeconds === null
      ? ''
      : `ETA for reading (${p.etaCovers.join(', ')}) at the Cliniko budget's pace: ${duration(p.etaSeconds)}.`;
  const reads = $('read-rows');
  reads.replaceChildren();
  for (const s of p.streams) {
    reads.append(
      row([s.stream, { text: s.read, className: 'num' }, { text: s.total ?? '—', className: 'num' }]),
    );
  }
  const writes = $('written-rows');
  writes.replaceChildren();
  const written = Object.entries(p.written);
  if (written.length === 0) writes.append(row(['—', { text: 0, className: 'num' }]));
  for (const [object, n] of written) writes.append(row([object, { text: n, className: 'num' }]));
}

function total(counts, field) {
  let n = 0;
  for (const c of Object.values(counts ?? {})) n += Number(c?.[field] ?? 0);
  return n;
}

function renderRuns(runs) {
  const rows = $('runs-rows');
  rows.replaceChildren();
  for (const r of runs) {
    rows.append(
      row([
        when(r.startedAt),
        r.mode,
        badge(r.status),
        duration(r.durationSeconds),
        { text: total(r.counts, 'read'), className: 'num' },
        { text: total(r.counts, 'written'), className: 'num' },
        { text: total(r.counts, 'deadLettered'), className: 'num' },
      ]),
    );
  }
}

function renderDeadLetters(items) {
  const rows = $('dlq-rows');
  rows.replaceChildren();
  $('dlq-empty').hidden = items.length > 0;
  $('dlq-table').hidden = items.length === 0;
  for (const d of items) {
    const cells = [
      d.object,
      d.externalId,
      d.code,
      d.message,
      { text: d.attempts, className: 'num' },
      when(d.createdAt),
    ];
    if (role === 'operator') {
      const button = el('button', 'Replay', 'secondary');
      button.type = 'button';
      button.setAttribute('aria-label', `Replay ${d.object} ${d.externalId}`);
      button.addEventListener('click', () => replay(d, button));
      cells.push(button);
    }
    rows.append(row(cells));
  }
}

function renderQuarantine(result) {
  const state = $('quarantine-state');
  const table = $('quarantine-table');
  state.className = '';
  if (result.status === 404) {
    state.textContent = 'Not available: this service version has no quarantine listing (GET /quarantine).';
    state.className = 'panel-unavailable';
    table.hidden = true;
    return;
  }
  if (!result.ok || !result.data || !Array.isArray(result.data.items)) {
    state.textContent = `The quarantine listing could not be read (HTTP ${result.status}).`;
    state.className = 'error';
    table.hidden = true;
    return;
  }
  const { items } = result.data;
  const count = typeof result.data.total === 'number' ? result.data.total : items.length;
  state.textContent =
    count === 0 ? 'No quarantined records.' : `${count} quarantined record${count === 1 ? '' : 's'}.`;
  table.hidden = items.length === 0;
  const rows = $('quarantine-rows');
  rows.replaceChildren();
  for (const q of items) rows.append(row([q.resource, q.id, q.field, q.reason, when(q.lastSeen)]));
}

function renderGovernance(overview) {
  const map = overview.dataMap;
  $('data-map').textContent = map.signed
    ? `Signed by ${map.approvedBy} on ${map.approvedOn} (sha256 ${String(map.sha256).slice(0, 12)}…)`
    : 'Not signed';
  $('data-map-disk').textContent = map.onDisk.ok
    ? 'Signed (matches its sign-off)'
    : `Refused: ${map.onDisk.message}`;
  const audit = overview.audit;
  $('audit').textContent = !audit
    ? 'Not verified yet'
    : audit.ok
      ? `Intact: ${audit.entries} entries, verified ${when(audit.at)}`
      : `BROKEN at seq ${audit.brokenAtSeq}: ${audit.reason} (verified ${when(audit.at)})`;
}

function renderAlerts(alerts) {
  $('alerts-webhook').textContent = alerts.webhook
    ? `Sent to the configured webhook (${alerts.webhook} format).`
    : 'No webhook configured (ALERT_WEBHOOK_URL): alerts show here only.';
  const list = $('alerts-list');
  list.replaceChildren();
  if (alerts.active.length === 0) list.append(el('li', 'No alert is active.'));
  for (const a of alerts.active) {
    const item = el('li');
    item.append(badge(a.severity), ` ${a.summary} (since ${when(a.since)})`);
    list.append(item);
  }
}

function chart(svgId, textId, samples, usedKey, maxKey, unit) {
  const svg = $(svgId);
  const points = samples.filter((s) => s[usedKey] !== null && s[maxKey]);
  svg.replaceChildren();
  const ns = 'http://www.w3.org/2000/svg';
  const limit = document.createElementNS(ns, 'line');
  for (const [k, v] of Object.entries({ x1: 0, x2: 300, y1: 4, y2: 4 })) limit.setAttribute(k, String(v));
  svg.append(limit);
  if (points.length === 0) {
    $(textId).textContent = 'No samples yet.';
    return;
  }
  const end = samples[samples.length - 1].at;
  const start = end - 24 * 3600 * 1000;
  const coords = points.map((s) => {
    const x = ((s.at - start) / (end - start)) * 300;
    const y = 76 - Math.min(1, s[usedKey] / s[maxKey]) * 72;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  if (coords.length === 1) coords.push(coords[0].replace(/^[^,]+/, '300'));
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', coords.join(' '));
  svg.append(line);
  const last = points[points.length - 1];
  const peak = points.reduce((m, s) => Math.max(m, s[usedKey] / s[maxKey]), 0);
  $(textId).textContent =
    `Now ${last[usedKey]} of ${last[maxKey]} ${unit}; peak ${Math.round(peak * 100)} % over ${points.length} sample${points.length === 1 ? '' : 's'}.`;
}

// ---- actions ----

async function act(method, path, done, body) {
  if (busy) return;
  busy = true;
  try {
    const result = await api(method, path, body);
    if (result.status === 401) return showSignIn('Your session ended. Sign in again.');
    notice(
      result.ok ? done(result.data) : `Refused: ${result.data?.error?.message ?? `HTTP ${result.status}`}`,
    );
  } finally {
    busy = false;
  }
  await refresh();
}

async function replay(d, button) {
  button.disabled = true;
  await act(
    'POST',
    `/dlq/${encodeURIComponent(d.id)}/replay`,
    () => `Dead letter ${d.object} ${d.externalId} is back in the outbox; the next run writes it.`,
  );
}

// ---- polling ----

function stopPolling() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

async function refresh() {
  stopPolling();
  let fast = false;
  try {
    const overview = await api('GET', '/console/api/overview');
    if (overview.status === 401) return showSignIn();
    if (!overview.ok) {
      notice(`The service answered HTTP ${overview.status}.`);
      return;
    }
    const o = overview.data;
    $('version').textContent = `v${o.version}`;
    renderHealth(o.health);
    renderControl(o);
    renderProgress(o.progress);
    renderGovernance(o);
    renderAlerts(o.alerts);
    chart(
      'chart-cliniko',
      'chart-cliniko-text',
      o.usage,
      'clinikoUsed',
      'clinikoLimit',
      'requests per minute',
    );
    chart(
      'chart-salesforce',
      'chart-salesforce-text',
      o.usage,
      'salesforceUsed',
      'salesforceMax',
      'requests today',
    );
    fast = o.progress.running || Boolean(o.scheduler.running);
    const [runs, dlq, quarantine] = await Promise.all([
      api('GET', '/runs?limit=10'),
      api('GET', '/dlq?limit=100'),
      api('GET', '/quarantine?limit=100'),
    ]);
    if (runs.ok) renderRuns(runs.data.runs);
    if (dlq.ok) renderDeadLetters(dlq.data.items);
    renderQuarantine(quarantine);
    document.body.dataset.updated = o.now;
  } catch {
    notice('The service could not be reached; retrying.');
  } finally {
    if (role !== null) timer = setTimeout(refresh, fast ? FAST_MS : SLOW_MS);
  }
}

async function start() {
  $('sign-in-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('pause').addEventListener('click', () => act('POST', '/sync/pause', () => 'Automatic sync paused.'));
  $('resume').addEventListener('click', () => act('POST', '/sync/resume', () => 'Automatic sync resumed.'));
  $('run-incremental').addEventListener('click', () =>
    act('POST', '/sync/run', (d) => `Run ${d.runId ?? ''} started.`),
  );
  $('run-backfill').addEventListener('click', () =>
    act('POST', '/sync/run', (d) => `Backfill ${d.runId ?? ''} started.`, { mode: 'backfill' }),
  );
  const session = await api('GET', '/console/session');
  if (session.ok) await enter(session.data.role);
  else showSignIn();
}

void start();
