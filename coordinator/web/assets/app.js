// The coordinator's web view: the job list (/) and a job page (/jobs/ID) with the job's DAG by
// stacks, a timeline per worker and each card's output. Everything it shows comes from the JSON
// and server-sent-event endpoints of this server (/api/...); nothing is fetched from elsewhere.
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function api(path) {
  const r = await fetch(path, {credentials: 'same-origin'});
  if (r.status === 401) {
    location.reload();  // the server answers with the login page
    throw new Error('not logged in');
  }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function age(wallUs) {
  const s = Math.max(0, Math.round((Date.now() - wallUs / 1000) / 1000));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm';
  if (s < 86400) return Math.floor(s / 3600) + 'h';
  return Math.floor(s / 86400) + 'd';
}

function seconds(us) {
  const s = us / 1e6;
  return s < 10 ? s.toFixed(2) + 's' : s.toFixed(1) + 's';
}

// The live marker in the header: on while a stream pushes updates.
function setLive(on, text) {
  const live = document.getElementById('live');
  live.className = 'live' + (on ? ' on' : '');
  live.textContent = text || (on ? 'live' : '');
}

function setCrumb(...parts) {
  document.getElementById('crumb').replaceChildren(...parts);
}

function showError(message) {
  document.getElementById('app').replaceChildren(el('p', {class: 'error'}, message));
}

// ------------------------------------------------------------------ the job list

function listPage() {
  setCrumb('jobs');
  const body = el('tbody', {id: 'jobs'});
  document.getElementById('app').replaceChildren(
      el('h1', {}, 'Jobs'),
      el('table', {class: 'jobs'},
         el('thead', {}, el('tr', {}, el('th', {}, 'job'), el('th', {}, 'name'),
                            el('th', {}, 'state'), el('th', {}, 'progress'), el('th', {}, 'age'))),
         body),
      el('p', {id: 'empty', class: 'muted', hidden: ''}, 'No jobs yet: hollerith submit JOB.yaml'));
  let jobs = [];
  const render = () => {
    document.getElementById('empty').hidden = jobs.length > 0;
    body.replaceChildren(...jobs.map(j => {
      return el('tr', {'data-job': j.id},
                el('td', {}, el('a', {href: '/jobs/' + encodeURIComponent(j.id)}, j.id)),
                el('td', {}, j.name),
                el('td', {}, el('span', {class: 'badge state-' + j.state}, j.state)),
                el('td', {}, el('span', {class: 'bar'}, el('span', {})),
                   ` ${j.cards_done}/${j.cards_total}`),
                el('td', {class: 'age', 'data-wall': j.submitted_wall_us}, age(j.submitted_wall_us)));
    }));
    // Widths through the CSSOM (the page's policy allows no inline style attributes).
    body.querySelectorAll('tr').forEach((tr, i) => {
      const j = jobs[i];
      tr.querySelector('.bar span').style.width =
          (j.cards_total ? Math.round(100 * j.cards_done / j.cards_total) : 0) + '%';
    });
  };
  const es = new EventSource('/api/jobs/events');
  es.onopen = () => setLive(true);
  es.onmessage = e => {
    jobs = JSON.parse(e.data).jobs;
    render();
  };
  es.onerror = () => setLive(false, 'reconnecting…');
  es.addEventListener('failed', e => {
    es.close();
    showError(JSON.parse(e.data).error);
  });
  setInterval(() => {
    body.querySelectorAll('.age').forEach(td => { td.textContent = age(+td.dataset.wall); });
  }, 1000);
}

// ------------------------------------------------------------------ the job page

const FINAL = new Set(['succeeded', 'cached', 'failed', 'skipped']);

class JobView {
  constructor(job) {
    this.job = job;
    this.cards = new Map();   // "STACK.CARD" -> {name, stack, index, state, node, attempts, ...}
    this.stacks = new Map();  // stack id -> {id, column, node, state, cards: [names]}
    this.runs = [];           // {card, node, start, end, state}: the timeline's bars
    this.selected = null;
    this.logStream = null;
    this.lastWallUs = 0;
  }

  // The model from the job's status: its graph (stacks and cards) and each card's state now.
  load() {
    const graph = this.job.graph || [];
    graph.forEach((stack, column) => {
      const st = (this.job.stacks || [])[column] || {};
      this.stacks.set(stack.id, {id: stack.id, column, node: st.node || '', state: st.state || '',
                                 waiting: st.waiting || '', cards: stack.cards.map(c => c.name)});
      stack.cards.forEach((c, index) => {
        const now = (this.job.cards || {})[c.name] || {};
        this.cards.set(c.name, {
          name: c.name, stack: stack.id, index, run: c.run, after: c.after, inputs: c.inputs,
          state: now.cached_from ? 'cached'
                                 : now.state && now.state !== 'pending' ? now.state : 'waiting',
          node: now.node || '', attempts: now.attempts || 0, exit_code: now.exit_code,
          duration_ms: now.duration_ms, error: now.error || '',
          cached_from: now.cached_from || '', cache: now.cache || '',
        });
      });
    });
  }

  render() {
    const j = this.job;
    setCrumb(el('a', {href: '/'}, 'jobs'), ' / ', j.id);
    const app = document.getElementById('app');
    app.replaceChildren(
        el('section', {class: 'summary'},
           el('h1', {}, j.name, ' ', el('span', {class: 'muted'}, j.id)),
           el('span', {id: 'job-state', class: 'badge'}),
           el('span', {id: 'job-progress'}),
           el('span', {id: 'job-reason', class: 'muted'}),
           el('span', {class: 'muted'},
              (j.tenant ? 'tenant ' + j.tenant : '') + (j.priority ? ', priority ' + j.priority : '')),
           jobActions(j),
           el('span', {class: 'legend'},
              ...['waiting', 'running', 'succeeded', 'cached', 'failed', 'skipped'].map(
                  s => el('span', {class: 'badge state-' + s}, s)))),
        el('div', {class: 'panes'},
           el('div', {class: 'main-pane'},
              el('h2', {}, 'Stacks'),
              el('ul', {id: 'waiting-list', class: 'muted'}),
              el('div', {class: 'scroll', id: 'dag-wrap'}),
              el('h2', {}, 'Timeline'),
              el('div', {class: 'scroll', id: 'timeline-wrap'})),
           el('aside', {id: 'card-panel', hidden: ''})));
    this.updateSummary();
    if (!j.graph) {
      document.getElementById('dag-wrap').append(
          el('p', {class: 'muted'}, `${j.cards_total} cards: too many to draw here.`));
    } else {
      this.drawDag();
    }
    this.drawTimeline();
  }

  updateSummary() {
    const state = document.getElementById('job-state');
    state.textContent = this.job.state;
    state.className = 'badge state-' + this.job.state;
    let done = 0;
    for (const c of this.cards.values()) if (FINAL.has(c.state)) ++done;
    if (this.cards.size === 0) done = this.job.cards_done;
    document.getElementById('job-progress').textContent =
        `${done}/${this.job.cards_total} cards`;
    document.getElementById('job-reason').textContent = this.job.reason || '';
    updateJobActions(this.job);
    // Why each stack that is not running waits, in the words of `hollerith status`.
    const waiting = [...this.stacks.values()].filter(s => s.waiting && s.state !== 'running' &&
                                                           s.state !== 'done');
    document.getElementById('waiting-list').replaceChildren(
        ...waiting.map(s => el('li', {'data-waiting': s.id}, `${s.id}: ${s.waiting}`)));
  }

  // The job's graph: each stack a box of its cards, in layers by depth (dag_view.js). `drawn`
  // settles once it is drawn the first time.
  drawDag() {
    this.dag = new DagView(this, document.getElementById('dag-wrap'));
    this.drawn = this.dag.draw();
  }

  paintCard(name) {
    if (this.dag) this.dag.paint(name);
  }

  showStackNode(id, node) {
    const s = this.stacks.get(id);
    if (s) s.node = node;
    if (this.dag) this.dag.showStackNode(id);
  }

  // One event of the job's stream (a replay from the start, then live).
  apply(ev) {
    if (ev.wall_us) this.lastWallUs = Math.max(this.lastWallUs, ev.wall_us);
    const card = ev.card ? this.cards.get(ev.card) : null;
    const closeRun = (name, state) => {
      for (let i = this.runs.length - 1; i >= 0; --i) {
        const r = this.runs[i];
        if (r.card === name && r.end === null) {
          r.end = ev.wall_us;
          r.state = state;
          return;
        }
      }
    };
    switch (ev.kind) {
      case 'stack_placed':  // recorded by the coordinator: the node shows with its first card
        break;
      case 'card_started':
        if (card) {
          Object.assign(card, {state: 'running', node: ev.node, attempts: ev.attempt});
          this.showStackNode(card.stack, ev.node);
        }
        this.runs.push({card: ev.card, node: ev.node, start: ev.wall_us, end: null,
                        state: 'running'});
        break;
      case 'card_finished':
        if (card) Object.assign(card, {state: 'succeeded', exit_code: ev.exit_code});
        closeRun(ev.card, 'succeeded');
        break;
      case 'card_cached':  // not run: its result came from the result cache
        if (card) Object.assign(card, {state: 'cached', exit_code: ev.exit_code,
                                       cached_from: ev.detail});
        closeRun(ev.card, 'cached');
        break;
      case 'card_failed':
        if (card) Object.assign(card, {state: 'failed', exit_code: ev.exit_code,
                                       error: ev.detail});
        closeRun(ev.card, 'failed');
        break;
      case 'card_retry':
        if (card) card.state = 'waiting';
        break;
      case 'card_skipped':
        if (card) Object.assign(card, {state: 'skipped', error: ev.detail});
        break;
      case 'stack_lost': {
        const s = this.stacks.get(ev.stack);
        for (const name of (s ? s.cards : [])) {
          const c = this.cards.get(name);
          if (c.state === 'running') c.state = 'waiting';
          closeRun(name, 'lost');
        }
        break;
      }
      case 'job_finished':
        for (const r of this.runs) {
          if (r.end === null) Object.assign(r, {end: ev.wall_us, state: 'skipped'});
        }
        break;
    }
    if (ev.job_state) this.job.state = ev.job_state;
    if (ev.kind === 'job_finished' && ev.detail) this.job.reason = ev.detail;
    if (card) this.paintCard(card.name);
    if (ev.stack_status && this.stacks.has(ev.stack_status.name)) {
      const s = this.stacks.get(ev.stack_status.name);
      s.state = ev.stack_status.state;
      s.waiting = ev.stack_status.waiting || '';
    }
    if (card && card.name === this.selected) this.showCardFacts();
    this.scheduleRedraw();
  }

  scheduleRedraw() {
    if (this.redrawPending) return;
    this.redrawPending = true;
    requestAnimationFrame(() => {
      this.redrawPending = false;
      this.updateSummary();
      this.drawTimeline();
    });
  }

  // A lane per worker (more when its cards overlap), a bar per run of a card, like a task stream.
  drawTimeline() {
    const wrap = document.getElementById('timeline-wrap');
    if (this.runs.length === 0) {
      wrap.replaceChildren(el('p', {class: 'muted'}, 'No card has started yet.'));
      return;
    }
    const running = this.job.state === 'running';
    const nowUs = running ? Math.max(this.lastWallUs, Date.now() * 1000) : this.lastWallUs;
    const t0 = Math.min(...this.runs.map(r => r.start));
    const t1 = Math.max(t0 + 1, nowUs, ...this.runs.map(r => r.end || nowUs));
    const nodes = [...new Set(this.runs.map(r => r.node))].sort();
    const LANE_H = 18, LABEL_W = 110, AXIS_H = 20;
    const width = Math.max(600, wrap.clientWidth - 4);
    const x = us => LABEL_W + (width - LABEL_W - 10) * (us - t0) / (t1 - t0);
    const rows = [];
    for (const node of nodes) {
      const lanes = [];  // each lane's end time
      const bars = [];
      for (const r of this.runs.filter(r => r.node === node).sort((a, b) => a.start - b.start)) {
        const end = r.end === null ? nowUs : r.end;
        let lane = lanes.findIndex(e => e <= r.start);
        if (lane < 0) lane = lanes.push(end) - 1; else lanes[lane] = end;
        bars.push({r, end, lane});
      }
      rows.push({node, bars, lanes: Math.max(1, lanes.length)});
    }
    const height = AXIS_H + rows.reduce((h, row) => h + row.lanes * LANE_H + 8, 0);
    const root = svg('svg', {id: 'timeline', width, height});
    let y = AXIS_H;
    for (let i = 0; i <= 4; ++i) {
      const us = t0 + (t1 - t0) * i / 4, xi = x(us);
      root.append(svg('line', {x1: xi, y1: AXIS_H - 4, x2: xi, y2: height, class: 'tick'}),
                  svg('text', {x: xi, y: 12, class: 'axis', 'text-anchor': i ? 'middle' : 'start'},
                      '+' + seconds(us - t0)));
    }
    for (const row of rows) {
      root.append(svg('text', {x: 4, y: y + 13, class: 'lane-name'}, row.node || '?'));
      for (const {r, end, lane} of row.bars) {
        const bx = x(r.start), bw = Math.max(2, x(end) - bx);
        root.append(svg('rect', {
          x: bx, y: y + lane * LANE_H + 1, width: bw, height: LANE_H - 3, rx: 2,
          class: 'run state-' + r.state, 'data-card': r.card,
          onclick: () => this.select(r.card)},
          svg('title', {}, `${r.card} on ${r.node}: ${seconds(end - r.start)} (${r.state})`)));
      }
      y += row.lanes * LANE_H + 8;
      root.append(svg('line', {x1: 0, y1: y - 4, x2: width, y2: y - 4, class: 'lane-sep'}));
    }
    wrap.replaceChildren(root);
  }

  // The card's panel: its facts and its output (streamed while it runs, where the coordinator
  // streams it; the kept stdout once it has ended).
  select(name) {
    const previous = this.selected;
    this.selected = name;
    if (previous) this.paintCard(previous);
    this.paintCard(name);
    const panel = document.getElementById('card-panel');
    panel.hidden = false;
    panel.replaceChildren(
        el('button', {class: 'close', title: 'close', onclick: () => this.deselect()}, '×'),
        el('h2', {id: 'card-name'}, name),
        el('dl', {id: 'card-facts'}),
        el('h3', {}, 'Output'),
        el('pre', {id: 'card-output', class: 'output'}),
        el('p', {id: 'card-output-note', class: 'muted'}, 'waiting for output…'));
    this.showCardFacts();
    this.followLog(name);
  }

  deselect() {
    const previous = this.selected;
    this.selected = null;
    if (this.logStream) this.logStream.close();
    document.getElementById('card-panel').hidden = true;
    if (previous) this.paintCard(previous);
  }

  showCardFacts() {
    const c = this.cards.get(this.selected);
    if (!c) return;
    const facts = [['state', c.state], ['node', c.node || '—'], ['attempts', c.attempts || 0],
                   ['exit code', c.exit_code === undefined ? '—' : c.exit_code],
                   ['runs', c.run]];
    if (c.error) facts.push(['why', c.error]);
    if (c.cached_from) facts.push(['cached from', 'job ' + c.cached_from]);
    if (c.cache) facts.push(['cache', c.cache]);
    document.getElementById('card-facts').replaceChildren(
        ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  }

  followLog(name) {
    if (this.logStream) this.logStream.close();
    const out = document.getElementById('card-output');
    const note = document.getElementById('card-output-note');
    const url = `/api/jobs/${encodeURIComponent(this.job.id)}/cards/${encodeURIComponent(name)}/log`;
    const es = new EventSource(url);
    this.logStream = es;
    const append = cls => e => {
      if (this.logStream !== es) return;
      out.append(el('span', {class: cls}, JSON.parse(e.data)));
      note.textContent = '';
    };
    es.addEventListener('stdout', append('stdout'));
    es.addEventListener('stderr', append('stderr'));
    es.addEventListener('end', e => {
      es.close();
      if (this.logStream !== es) return;
      const body = JSON.parse(e.data);
      note.textContent = body.error ? body.error : (out.textContent ? '' : '(no output)');
      out.dataset.complete = 'true';
    });
  }

  connect() {
    const es = new EventSource(`/api/jobs/${encodeURIComponent(this.job.id)}/events`);
    es.onopen = () => setLive(true);
    es.onmessage = e => this.apply(JSON.parse(e.data));
    es.onerror = () => setLive(false, 'reconnecting…');
    es.addEventListener('end', () => {
      es.close();
      setLive(false, 'finished');
      this.scheduleRedraw();
    });
    es.addEventListener('failed', e => {
      es.close();
      setLive(false, JSON.parse(e.data).error);
    });
    // Running bars grow with the clock.
    setInterval(() => { if (this.job.state === 'running') this.scheduleRedraw(); }, 500);
  }
}

async function jobPage(id) {
  setCrumb(el('a', {href: '/'}, 'jobs'), ' / ', id);
  let job;
  try {
    job = await api('/api/jobs/' + encodeURIComponent(id));
  } catch (e) {
    return showError(e.message);
  }
  const view = new JobView(job);
  window.hollerithJob = view;  // for people poking at it from the console
  view.load();
  view.render();
  // The replay of a big job's events would compete with its layout for the machine: the status
  // already shows where the job is, so its events follow once the graph is drawn.
  await Promise.resolve(view.drawn).catch(() => {});
  view.connect();
}

(function route() {
  const m = location.pathname.match(/^\/jobs\/([^/]+)$/);
  if (m) jobPage(decodeURIComponent(m[1]));
  else if (location.pathname === '/cluster') clusterPage();
  else listPage();
})();
