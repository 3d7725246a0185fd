// The job page's graph (JobView.drawDag in app.js): each stack a box of its cards, a row per card,
// the boxes in layers by depth from left to right (dag_model.js; placed by dagre off the page's
// thread: dag_layout.js), an arrow per cross-stack producer -> consumer pair of cards, bent
// around the boxes between their layers. A toolbar zooms, fits, shows the critical path and
// collapses a matrix's stacks into group boxes; the pane pans and zooms (dag_camera.js), with an
// overview for drawings larger than it (dag_minimap.js).
//
// In the DOM (the browser tests read it): svg#dag (data-extent "0 0 W H": the drawing's size in
// graph coordinates; data-drawn once laid out), .stack[data-stack][data-layer] holding
// rect.stack-box, .stack-node ("on NODE") and its cards, .card[data-card][data-state] with one
// <text> (its label) and aria-label "NAME: STATE", .edge[data-from][data-to], .stack-group for a
// collapsed group, and .critical on the critical path while it is shown.
'use strict';

class DagView {
  static CARD_W = 164;
  static CARD_H = 24;
  static CARD_GAP = 4;
  static PAD = 8;
  static HEAD_H = 40;  // a box's name and "on NODE" lines
  static BOX_W = DagView.CARD_W + 2 * DagView.PAD;
  static GROUP_ROW_H = 18;
  static FULL_LIMIT = 5000;  // above this many stacks, a job starts with its groups collapsed
  static PANE_H = 440;       // the pane's height (style.css), less for a lower drawing
  static PANE_MIN_H = 160;
  static STATES = ['waiting', 'running', 'succeeded', 'cached', 'failed', 'skipped'];
  // A shape per state, so that states read without their colour (10 x 10, stroked).
  static ICONS = {
    waiting: 'M1.5,5h0.01M5,5h0.01M8.5,5h0.01',      // ⋯
    running: 'M2,1L9,5L2,9Z',                           // ▶
    succeeded: 'M1,5.5L4,8.5L9,1.5',                    // ✓
    cached: 'M8.6,3.2A4,4 0 1 0 9,6.3M8.8,0.6V3.4H6',  // ↻
    failed: 'M1.5,1.5L8.5,8.5M8.5,1.5L1.5,8.5',        // ✗
    skipped: 'M1,8Q5,-1.5 9,8M6.3,6.8L9,8L9.6,5.2',     // ⤼
  };

  // `job`: the page's JobView (its stacks, cards, runs, selected card and select()); `wrap`: the
  // element the toolbar and the pane go in.
  constructor(job, wrap) {
    this.job = job;
    this.wrap = wrap;
    this.model = new DagModel(job.stacks, job.cards);
    const {groupOf, groups} = this.model.groups();
    this.groupOf = groupOf;  // stack id -> group id
    this.groups = groups;    // group id -> {id, base, depth, members}
    this.collapsed = groups.size > 0 && job.stacks.size > DagView.FULL_LIMIT;
    this.expanded = new Set();  // groups shown as their stacks while the others are collapsed
    this.showCritical = false;
    this.critical = {cards: new Set(), edges: new Set()};
    this.layoutId = 0;
    // What paint() and showStackNode() update, found in O(1) (no query over a large drawing).
    this.cardEls = new Map();    // card name -> {box, icon}
    this.nodeTexts = new Map();  // stack id -> its "on NODE" <text>
    this.groupEls = new Map();   // group id -> {box, counts: {state: <text>}}
    this.edgeEls = [];           // {el, base (its classes), key, pair (node ids)}
    // Each group's cards by state, kept as cards change whether the group is drawn or not.
    this.counted = new Map();    // card name -> the state it is counted under
    this.groupCounts = new Map(
        [...groups.keys()].map(g => [g, Object.fromEntries(DagView.STATES.map(s => [s, 0]))]));
    this.dirtyGroups = new Set();
    for (const c of job.cards.values()) this.count(c);
  }

  static svg(tag, attrs, ...children) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    e.append(...children);
    return e;
  }

  static html(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    e.append(...children);
    return e;
  }

  static clip(text, n) {
    return text.length > n ? text.slice(0, n - 1) + '…' : text;
  }

  // The toolbar and the pane; the drawing follows once laid out.
  draw() {
    const H = DagView.html;
    const button = (id, text, title, onclick) =>
        H('button', {type: 'button', id, title, 'aria-label': title, onclick}, text);
    this.criticalButton = button('dag-critical', 'critical path',
                                 'highlight the chain of cards that decided the job\'s duration',
                                 () => this.toggleCritical());
    this.criticalButton.setAttribute('aria-pressed', 'false');
    this.groupButton = button('dag-groups', '', 'collapse or expand the matrix groups',
                              () => this.toggleGroups());
    this.groupButton.hidden = this.groups.size === 0;
    this.status = H('span', {class: 'dag-status muted', 'aria-live': 'polite'});
    this.svg = DagView.svg('svg', {id: 'dag', role: 'group', 'aria-label': 'the job\'s graph'});
    this.layer = DagView.svg('g', {class: 'camera'});
    const marker = (id, cls) => DagView.svg('marker', {
      id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: 'auto-start-reverse'}, DagView.svg('path', {d: 'M0,0 L10,5 L0,10 z', class: cls}));
    this.svg.append(DagView.svg('defs', {}, marker('dag-arrow', 'arrowhead'),
                                marker('dag-arrow-critical', 'arrowhead-critical')),
                    this.layer);
    const minimap = H('canvas', {class: 'dag-minimap', hidden: '', 'aria-hidden': 'true',
                                 title: 'overview: click to move there'});
    this.pane = H('div', {class: 'dag-pane', tabindex: 0,
                          'aria-label': 'job graph: drag or arrow keys to pan, wheel or + and - ' +
                                        'to zoom, 0 to fit'},
                  this.svg, minimap);
    this.wrap.replaceChildren(
        H('div', {class: 'dag-toolbar', role: 'toolbar', 'aria-label': 'graph'},
          button('dag-zoom-out', '−', 'zoom out', () => this.camera.zoomBy(1 / DagCamera.STEP)),
          button('dag-zoom-in', '+', 'zoom in', () => this.camera.zoomBy(DagCamera.STEP)),
          button('dag-fit', 'fit', 'fit the graph to the pane', () => this.camera.fit()),
          this.criticalButton, this.groupButton, this.status),
        this.pane);
    this.camera = new DagCamera(this.pane, this.layer, camera => {
      this.svg.classList.toggle('far', camera.k < 0.4);  // too small to read: boxes only
      this.minimap.draw();
    });
    this.minimap = new DagMinimap(minimap, this.camera);
    // One listener each for every box (a large job has thousands).
    const target = e => e.target.closest('.card, .stack-group');
    this.svg.addEventListener('click', e => this.activate(target(e)));
    this.svg.addEventListener('keydown', e => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      const t = target(e);
      if (!t) return;
      e.preventDefault();
      this.activate(t);
    });
    this.svg.addEventListener('focusin', e => {  // the keyboard's focus, not a click's
      if (e.target.matches(':focus-visible')) this.reveal(target(e));
    });
    return this.layOut();
  }

  // A card opens its panel; a collapsed group opens into its stacks.
  activate(box) {
    if (!box) return;
    if (box.dataset.card) {
      this.job.select(box.dataset.card);
    } else {
      this.expanded.add(box.dataset.groupId);
      this.layOut();
    }
  }

  // Keyboard focus on a box out of view brings it into view.
  reveal(box) {
    if (!box || !this.camera) return;
    const r = box.querySelector('rect');
    this.camera.reveal(+r.getAttribute('x'), +r.getAttribute('y'), +r.getAttribute('width'),
                       +r.getAttribute('height'));
  }

  // The box that shows stack `id` now: the stack's own, or its collapsed group's.
  nodeOf(id) {
    const g = this.groupOf.get(id);
    return g !== undefined && this.collapsed && !this.expanded.has(g) ? 'g:' + g : 's:' + id;
  }

  // The boxes to lay out, in the graph's order: {id, layer, width, height, stack | group}.
  nodes() {
    const nodes = new Map();
    for (const s of this.job.stacks.values()) {
      const id = this.nodeOf(s.id);
      if (nodes.has(id)) continue;
      const layer = this.model.depth.get(s.id);
      if (id.startsWith('g:')) {
        nodes.set(id, {id, layer, width: DagView.BOX_W, group: this.groups.get(id.slice(2)),
                       height: DagView.HEAD_H + 3 * DagView.GROUP_ROW_H + DagView.PAD});
      } else {
        const n = Math.max(1, s.cards.length);
        nodes.set(id, {id, layer, width: DagView.BOX_W, stack: s,
                       height: DagView.HEAD_H + n * (DagView.CARD_H + DagView.CARD_GAP) -
                                   DagView.CARD_GAP + DagView.PAD});
      }
    }
    return nodes;
  }

  // The distinct pairs of boxes joined by an edge that goes to a deeper layer ("A\nB" keys).
  forwardPairs() {
    const pairs = new Set();
    for (const e of this.model.edges) {
      const s = this.job.cards.get(e.from).stack, t = this.job.cards.get(e.to).stack;
      const a = this.nodeOf(s), b = this.nodeOf(t);
      if (a !== b && !this.model.isBack(s, t)) pairs.add(a + '\n' + b);
    }
    return [...pairs].map(p => p.split('\n'));
  }

  layOut() {
    const nodes = this.nodes(), pairs = this.forwardPairs();
    const id = ++this.layoutId;
    this.status.textContent = `laying out ${nodes.size} boxes…`;
    const request = [...nodes.values()].map(n => ({id: n.id, width: n.width, height: n.height,
                                                    layer: n.layer}));
    return DagLayout.request(request, pairs).then(reply => {
      if (id === this.layoutId) this.drawLayout(nodes, pairs, reply);
    }, err => {
      if (id === this.layoutId) this.status.textContent = 'no layout: ' + err.message;
    });
  }

  drawLayout(nodes, pairs, reply) {
    const started = performance.now();
    let i = 0;
    for (const n of nodes.values()) {
      n.x = reply.boxes[2 * i];
      n.y = reply.boxes[2 * i + 1];
      ++i;
    }
    const bends = new Map(pairs.map(([a, b], k) => [a + '\n' + b, reply.bends[k]]));
    this.cardEls.clear();
    this.nodeTexts.clear();
    this.groupEls.clear();
    this.edgeEls = [];
    const boxes = DagView.svg('g', {class: 'boxes'});
    const rects = [];  // for the overview
    for (const n of nodes.values()) {
      boxes.append(n.stack ? this.stackBox(n) : this.groupBox(n));
      rects.push(n.x, n.y, n.width, n.height);
    }
    const edges = DagView.svg('g', {class: 'edges'});
    this.drawEdges(edges, nodes, bends);
    const {width, height} = reply;
    this.layer.replaceChildren(DagView.svg('rect', {class: 'extent', width, height}), edges, boxes);
    this.svg.setAttribute('data-extent', `0 0 ${width} ${height}`);
    // A drawing lower than the pane gets a pane its height.
    const low = height + 2 < DagView.PANE_H;
    this.pane.style.height = low ? Math.max(DagView.PANE_MIN_H, Math.ceil(height) + 2) + 'px' : '';
    if (low) this.camera.measure();
    this.camera.setExtent(width, height);
    this.camera.fit();
    // The overview, for a drawing well larger than the pane.
    this.minimap.setBoxes(rects, width, height, this.camera.fitScale() < 2 / 3);
    for (const name of this.cardEls.keys()) this.paint(name);
    for (const g of this.groupEls.keys()) this.dirtyGroups.add(g);
    this.showCounts();
    if (this.showCritical) this.markCritical();
    const stacks = this.job.stacks.size, layers = this.model.layers;
    this.status.textContent = `${stacks} stack${stacks === 1 ? '' : 's'} in ${layers} ` +
                              `layer${layers === 1 ? '' : 's'}` +
                              (this.groupEls.size ? `, ${this.groupEls.size} collapsed` : '');
    this.groupButton.textContent = this.collapsed && this.expanded.size < this.groups.size
                                       ? 'expand groups' : 'collapse groups';
    // How long the layout took in the worker and the drawing here, and when it was done (ms since
    // the page's navigation started): the tests print them.
    this.svg.dataset.layoutMs = reply.ms;
    this.svg.dataset.drawMs = Math.round(performance.now() - started);
    this.svg.dataset.drawnMs = Math.round(performance.now());
    this.svg.dataset.drawn = 'true';
  }

  stackBox(n) {
    const S = DagView.svg, s = n.stack, x = n.x, y = n.y, P = DagView.PAD;
    const node = S('text', {class: 'stack-node', 'data-stack-node': s.id, x: x + P, y: y + 32},
                   s.node ? 'on ' + s.node : '');
    this.nodeTexts.set(s.id, node);
    const box = S('g', {class: 'stack', 'data-stack': s.id, 'data-layer': n.layer},
                  S('title', {}, s.id),
                  S('rect', {class: 'stack-box', x, y, width: n.width, height: n.height, rx: 6}),
                  S('text', {class: 'stack-name', x: x + P, y: y + 16}, DagView.clip(s.id, 22)),
                  node);
    s.cards.forEach((name, i) => {
      box.append(this.cardBox(name, x + P, y + DagView.HEAD_H + i * (DagView.CARD_H +
                                                                     DagView.CARD_GAP)));
    });
    return box;
  }

  cardBox(name, x, y) {
    const S = DagView.svg, c = this.job.cards.get(name);
    const label = c.name.startsWith(c.stack + '.') ? c.name.slice(c.stack.length + 1) : c.name;
    const icon = S('path', {class: 'state-icon', transform: `translate(${x + 7},${y + 7})`});
    const box = S('g', {class: 'card', 'data-card': name, tabindex: 0, role: 'button'},
                  S('rect', {x, y, width: DagView.CARD_W, height: DagView.CARD_H, rx: 4}),
                  icon,
                  S('text', {x: x + 24, y: y + 16}, DagView.clip(label, 20)),
                  S('title', {}, c.name + ': ' + c.run));
    this.cardEls.set(name, {box, icon});
    return box;
  }

  groupBox(n) {
    const S = DagView.svg, g = n.group, x = n.x, y = n.y, P = DagView.PAD;
    const box = S('g', {class: 'stack-group', 'data-group': g.base, 'data-group-id': g.id,
                        'data-layer': n.layer, 'data-count': g.members.length, tabindex: 0,
                        role: 'button'},
                  S('title', {}, `${g.members.length} stacks ${g.base}-…: click to show them`),
                  S('rect', {class: 'stack-box', x, y, width: n.width, height: n.height, rx: 6}),
                  S('text', {class: 'stack-name', x: x + P, y: y + 16},
                    DagView.clip(`${g.base}-* ×${g.members.length}`, 22)),
                  S('text', {class: 'group-note', x: x + P, y: y + 32}, 'their cards by state:'));
    const counts = {};
    DagView.STATES.forEach((state, i) => {  // two columns of three
      const cx = x + P + (i % 2) * (DagView.CARD_W / 2);
      const cy = y + DagView.HEAD_H + Math.floor(i / 2) * DagView.GROUP_ROW_H;
      counts[state] = S('text', {class: 'group-count', 'data-state': state, x: cx + 16,
                                 y: cy + 10});
      box.append(S('path', {class: 'state-icon state-' + state, d: DagView.ICONS[state],
                            transform: `translate(${cx},${cy + 1})`}),
                 counts[state]);
    });
    this.groupEls.set(g.id, {box, counts});
    return box;
  }

  // An arrow per cross-stack pair of cards between two stack boxes, from the producer's row to
  // the consumer's, through dagre's bends; one per pair of boxes where a group box is an end.
  drawEdges(into, nodes, bends) {
    const seen = new Set();
    const rowY = (n, name) => n.y + DagView.HEAD_H +
                              this.job.cards.get(name).index * (DagView.CARD_H + DagView.CARD_GAP) +
                              DagView.CARD_H / 2;
    for (const e of this.model.edges) {
      const s = this.job.cards.get(e.from).stack, t = this.job.cards.get(e.to).stack;
      const a = nodes.get(this.nodeOf(s)), b = nodes.get(this.nodeOf(t));
      if (a === b) continue;
      const cards = a.stack && b.stack;
      const key = cards ? e.from + '\n' + e.to : a.id + '\n' + b.id;
      if (seen.has(key)) continue;
      seen.add(key);
      const start = {x: a.x + a.width, y: a.stack ? rowY(a, e.from) : a.y + a.height / 2};
      const end = {x: b.x, y: b.stack ? rowY(b, e.to) : b.y + b.height / 2};
      const back = this.model.isBack(s, t);
      const base = 'edge' + (cards ? '' : ' group-edge') + (back ? ' back' : '');
      const el = DagView.svg('path', {
        d: back ? DagView.backPath(start, end)
                : DagView.curve(start, bends.get(a.id + '\n' + b.id) || [], end),
        class: base, 'marker-end': 'url(#dag-arrow)',
        'data-from': cards ? e.from : a.id.slice(2), 'data-to': cards ? e.to : b.id.slice(2)});
      into.append(el);
      this.edgeEls.push({el, base, key: cards ? key : null, pair: [a.id, b.id]});
    }
  }

  // A smooth path from `start` through the bends ([x, y, ...]) to `end`, leaving and arriving
  // horizontally.
  static curve(start, bends, end) {
    const points = [start];
    for (let i = 0; i < bends.length; i += 2) points.push({x: bends[i], y: bends[i + 1]});
    points.push(end);
    let d = `M${start.x},${start.y}`;
    for (let i = 1; i < points.length; ++i) {
      const p = points[i - 1], q = points[i], dx = (q.x - p.x) / 2;
      d += ` C${p.x + dx},${p.y} ${q.x - dx},${q.y} ${q.x},${q.y}`;
    }
    return d;
  }

  // An edge that closes a cycle of stacks runs right to left: out and back round.
  static backPath(start, end) {
    return `M${start.x},${start.y} C${start.x + 80},${start.y} ${end.x - 80},${end.y} ` +
           `${end.x},${end.y}`;
  }

  // A card's box in its state (O(1): a card changes with every event of a large job).
  paint(name) {
    const c = this.job.cards.get(name);
    if (!c) return;
    this.count(c);
    const el = this.cardEls.get(name);
    if (el) {
      let cls = 'card state-' + c.state;
      if (this.job.selected === name) cls += ' selected';
      if (this.showCritical && this.critical.cards.has(name)) cls += ' critical';
      el.box.setAttribute('class', cls);
      el.box.setAttribute('data-state', c.state);
      el.box.setAttribute('aria-label', `${name}: ${c.state}`);
      el.icon.setAttribute('d', DagView.ICONS[c.state] || DagView.ICONS.waiting);
    }
    if (this.showCritical) this.scheduleCritical();
  }

  showStackNode(id) {
    const s = this.job.stacks.get(id), t = this.nodeTexts.get(id);
    if (s && t) t.textContent = s.node ? 'on ' + s.node : '';
  }

  // Moves card `c` to its state's count in its group, if it is in one.
  count(c) {
    const g = this.groupOf.get(c.stack);
    if (g === undefined) return;
    const state = DagView.ICONS[c.state] ? c.state : 'waiting', was = this.counted.get(c.name);
    if (was === state) return;
    const counts = this.groupCounts.get(g);
    if (was !== undefined) --counts[was];
    ++counts[state];
    this.counted.set(c.name, state);
    if (!this.groupEls.has(g)) return;
    this.dirtyGroups.add(g);
    if (!this.countsPending) {
      this.countsPending = true;
      requestAnimationFrame(() => this.showCounts());
    }
  }

  showCounts() {
    this.countsPending = false;
    for (const g of this.dirtyGroups) {
      const el = this.groupEls.get(g);
      if (!el) continue;
      const counts = this.groupCounts.get(g), words = [];
      for (const state of DagView.STATES) {
        el.counts[state].textContent = counts[state];
        el.counts[state].classList.toggle('zero', counts[state] === 0);
        if (counts[state]) words.push(`${counts[state]} ${state}`);
      }
      const group = this.groups.get(g);
      el.box.setAttribute('aria-label', `${group.base}: ${group.members.length} stacks, ` +
                                        `${words.join(', ')} (Enter shows them)`);
    }
    this.dirtyGroups.clear();
  }

  toggleGroups() {
    const anyCollapsed = this.collapsed && this.expanded.size < this.groups.size;
    this.collapsed = !anyCollapsed;
    this.expanded.clear();
    this.layOut();
  }

  toggleCritical() {
    this.showCritical = !this.showCritical;
    this.criticalButton.setAttribute('aria-pressed', String(this.showCritical));
    this.svg.classList.toggle('show-critical', this.showCritical);
    if (this.showCritical) this.critical = this.model.criticalPath(this.durations());
    this.markCritical();
  }

  // While it is shown, the critical path follows the job (at most twice a second).
  scheduleCritical() {
    if (this.criticalTimer) return;
    this.criticalTimer = setTimeout(() => {
      this.criticalTimer = null;
      if (!this.showCritical) return;
      this.critical = this.model.criticalPath(this.durations());
      this.markCritical();
    }, 500);
  }

  // How long each card took, in ms: its last run (so far, while it runs), else what the job's
  // status said; a card that did not run (waiting, skipped, cached) took 0.
  durations() {
    const running = this.job.job.state === 'running';
    const nowUs = running ? Math.max(this.job.lastWallUs, Date.now() * 1000) : this.job.lastWallUs;
    const last = new Map();
    for (const r of this.job.runs) last.set(r.card, r);
    return name => {
      const c = this.job.cards.get(name);
      if (c.state === 'cached' || c.state === 'skipped' || c.state === 'waiting') return 0;
      const r = last.get(name);
      if (r) return ((r.end === null ? nowUs : r.end) - r.start) / 1000;
      return c.duration_ms || 0;
    };
  }

  markCritical() {
    const on = this.showCritical, crit = this.critical;
    for (const name of this.cardEls.keys()) {
      const el = this.cardEls.get(name).box;
      el.classList.toggle('critical', on && crit.cards.has(name));
    }
    const stacks = new Set(), boxes = new Set();
    if (on) {
      for (const name of crit.cards) stacks.add(this.job.cards.get(name).stack);
      for (const s of stacks) boxes.add(this.nodeOf(s));
    }
    for (const box of this.layer.querySelectorAll('.stack, .stack-group')) {
      const id = box.dataset.stack !== undefined ? 's:' + box.dataset.stack
                                                 : 'g:' + box.dataset.groupId;
      box.classList.toggle('critical', boxes.has(id));
    }
    const pairs = new Set();
    if (on) {
      for (const key of crit.edges) {
        const [from, to] = key.split('\n');
        pairs.add(this.nodeOf(this.job.cards.get(from).stack) + '\n' +
                  this.nodeOf(this.job.cards.get(to).stack));
      }
    }
    for (const e of this.edgeEls) {
      const hot = on && (e.key !== null ? crit.edges.has(e.key) : pairs.has(e.pair.join('\n')));
      e.el.setAttribute('class', e.base + (hot ? ' critical' : ''));
      e.el.setAttribute('marker-end', hot ? 'url(#dag-arrow-critical)' : 'url(#dag-arrow)');
      if (hot) e.el.parentNode.append(e.el);  // drawn over the others
    }
  }
}
