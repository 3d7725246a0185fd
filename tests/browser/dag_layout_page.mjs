// Opens the web view's page of a finished job in headless Chromium (Debian's) and checks the
// drawing of its graph in the page, in graph coordinates: every stack box inside the drawing's
// extent (svg#dag's data-extent), each stack's layer its depth, every edge from a lower layer to a
// higher one and from a box left of its target's, no two stack boxes overlapping (a sort and a
// sweep: O(n log n)). Times the load (navigation to a drawn graph), saves a screenshot, and with
// CRITICAL set, shows the critical path; with GROUPS set, collapses and expands the matrix groups;
// with KEYBOARD_CARD set, opens that card's panel from the keyboard. Prints what it saw as one
// JSON line on stdout (the C++ test checks it); exits 1 on any error or timeout.
//
// Environment: WEB_URL, JOB_ID, TOKEN_FILE, SCREENSHOT (a .png path), and optionally CRITICAL=1,
// GROUPS=1, KEYBOARD_CARD (a card name), CHROMIUM (default /usr/bin/chromium).
import {deadline, env, launch, newPage, openLoggedIn} from './browser_session.mjs';

const webUrl = env('WEB_URL'), jobId = env('JOB_ID'), screenshot = env('SCREENSHOT');
const overall = deadline('dag_layout_page.mjs', 150000);
const DRAWN = '#dag[data-drawn="true"]';

// In the page: the geometry of the drawing, checked. Boxes and edges as the DOM holds them.
function checkDrawing() {
  const svg = document.getElementById('dag');
  const [, , width, height] = svg.dataset.extent.split(' ').map(Number);
  const boxes = [...svg.querySelectorAll('.stack')].map(g => {
    const r = g.querySelector('rect.stack-box');
    return {id: g.dataset.stack, layer: +g.dataset.layer, x: +r.getAttribute('x'),
            y: +r.getAttribute('y'), w: +r.getAttribute('width'), h: +r.getAttribute('height')};
  });
  const byId = new Map(boxes.map(b => [b.id, b]));
  const stackOf = new Map([...svg.querySelectorAll('.card')].map(
      c => [c.dataset.card, c.closest('.stack').dataset.stack]));
  const seen = {stacks: boxes.length, cards: stackOf.size, width, height};
  seen.outside = boxes.filter(b => b.x < 0 || b.y < 0 || b.x + b.w > width || b.y + b.h > height)
                     .map(b => b.id);
  // Edges: lower layer to higher, source box entirely left of the target's; each layer the depth.
  const edges = [...svg.querySelectorAll('.edge')];
  seen.edges = edges.length;
  seen.backward = [];
  const deepest = new Map();  // stack -> 1 + its deepest producer's layer
  for (const e of edges) {
    const a = byId.get(stackOf.get(e.dataset.from)), b = byId.get(stackOf.get(e.dataset.to));
    if (!(a.layer < b.layer) || !(a.x + a.w < b.x)) seen.backward.push(`${a.id}->${b.id}`);
    deepest.set(b.id, Math.max(deepest.get(b.id) || 0, a.layer + 1));
  }
  seen.not_depth = boxes.filter(b => b.layer !== (deepest.get(b.id) || 0)).map(b => b.id);
  const layers = new Map();
  for (const b of boxes) layers.set(b.layer, (layers.get(b.layer) || 0) + 1);
  seen.layer_sizes = [...layers.keys()].sort((p, q) => p - q).map(l => layers.get(l));
  // Overlaps: boxes sorted by x, swept left to right; the boxes under the sweep line are kept in
  // an array sorted by y, and those are disjoint while no overlap was found, so a new box
  // overlaps one of them exactly when it overlaps its neighbour above or below (binary search).
  const events = [];
  boxes.forEach((b, i) => events.push([b.x, 1, i], [b.x + b.w, 0, i]));  // ends before starts
  events.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const active = [];  // indexes into boxes, by y
  const at = y => {  // the first position in `active` whose box starts at or below y
    let lo = 0, hi = active.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (boxes[active[mid]].y < y) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  seen.overlaps = [];
  for (const [, start, i] of events) {
    const b = boxes[i], k = at(b.y);
    if (!start) {
      let j = k;
      while (active[j] !== i) ++j;
      active.splice(j, 1);
      continue;
    }
    const above = boxes[active[k - 1]], below = boxes[active[k]];
    if (above && above.y + above.h > b.y) seen.overlaps.push(`${above.id}/${b.id}`);
    if (below && b.y + b.h > below.y) seen.overlaps.push(`${b.id}/${below.id}`);
    if (seen.overlaps.length) break;
    active.splice(k, 0, i);
  }
  // The pane: inside a 1280x800 window.
  const pane = document.querySelector('.dag-pane').getBoundingClientRect();
  seen.pane = [pane.left, pane.top, pane.right, pane.bottom].map(Math.round);
  seen.pane_fits = pane.left >= 0 && pane.top >= 0 && pane.right <= innerWidth &&
                   pane.bottom <= innerHeight;
  seen.scale = scaleOf(svg);
  seen.minimap = !document.querySelector('.dag-minimap').hidden;
  // Where the load's time went: the job's graph arriving (ms since navigation), the layout in the
  // worker, the drawing.
  const graph = performance.getEntriesByType('resource').find(
      r => /\/api\/jobs\/[^/]+$/.test(new URL(r.name).pathname));
  seen.graph_fetched_ms = graph ? Math.round(graph.responseEnd) : null;
  seen.layout_ms = +svg.dataset.layoutMs;
  seen.draw_ms = +svg.dataset.drawMs;
  seen.drawn_ms = +svg.dataset.drawnMs;
  return seen;

  function scaleOf(root) {
    return +/scale\(([^)]+)\)/.exec(root.querySelector('g.camera').getAttribute('transform'))[1];
  }
}

const browser = await launch();
const seen = {};
let page;
try {
  page = await newPage(browser);
  const path = `jobs/${encodeURIComponent(jobId)}`;
  await openLoggedIn(page, webUrl, path, env('TOKEN_FILE'), seen);
  await page.waitForSelector(DRAWN, {timeout: 60000});
  // Timed: a fresh navigation (logged in) to the graph drawn.
  const started = Date.now();
  await page.goto(`${webUrl}${path}`);
  await page.waitForSelector(DRAWN, {timeout: 60000});
  seen.load_ms = Date.now() - started;
  Object.assign(seen, await page.evaluate(checkDrawing));
  seen.cards_labelled = await page.locator('#dag .card[aria-label][tabindex="0"]').count();
  await page.screenshot({path: screenshot});
  seen.screenshot = screenshot;

  // Zoom: + zooms in, fit comes back to the initial view (never above 1:1).
  const scale = () => page.evaluate(
      () => +/scale\(([^)]+)\)/.exec(document.querySelector('#dag g.camera')
                                         .getAttribute('transform'))[1]);
  await page.click('#dag-zoom-in');
  seen.zoomed_in = (await scale()) > seen.scale;
  await page.click('#dag-fit');
  seen.fit_again = Math.abs((await scale()) - seen.scale) < 1e-9;

  if (process.env.CRITICAL) {
    await page.click('#dag-critical');
    await page.waitForSelector('#dag .card.critical');
    seen.critical_cards = await page.locator('#dag .card.critical').evaluateAll(
        cards => cards.map(c => c.dataset.card));
    seen.critical_edges = await page.locator('#dag .edge.critical').evaluateAll(
        edges => edges.map(e => [e.dataset.from, e.dataset.to]));
    await page.screenshot({path: screenshot.replace(/\.png$/, '-critical.png')});
    await page.click('#dag-critical');
    seen.critical_off = await page.locator('#dag .critical').count();
  }
  if (process.env.GROUPS) {
    await page.click('#dag-groups');
    await page.waitForSelector('#dag .stack-group');
    await page.waitForSelector(DRAWN);
    seen.groups = await page.locator('#dag .stack-group').evaluateAll(groups => groups.map(g => ({
      base: g.dataset.group, count: +g.dataset.count, layer: +g.dataset.layer,
      succeeded: +g.querySelector('.group-count[data-state="succeeded"]').textContent,
      label: g.getAttribute('aria-label')})));
    seen.stacks_grouped = await page.locator('#dag .stack').count();
    await page.screenshot({path: screenshot.replace(/\.png$/, '-grouped.png')});
    await page.click('#dag-groups');
    await page.waitForFunction(() => !document.querySelector('#dag .stack-group'));
    seen.stacks_expanded = await page.locator('#dag .stack').count();
  }
  const card = process.env.KEYBOARD_CARD;
  if (card) {
    // Tab order reaches the cards; Enter on one opens its panel.
    const box = `#dag .card[data-card="${card}"]`;
    seen.keyboard_label = await page.getAttribute(box, 'aria-label');
    await page.focus(box);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#card-name');
    seen.keyboard_panel = await page.textContent('#card-name');
    await page.keyboard.press('+');  // the pane's keys: from a card too
    seen.zoomed_by_key = (await scale()) > seen.scale;
    await page.click('#dag-zoom-in');
    await page.screenshot({path: screenshot.replace(/\.png$/, '-zoomed.png')});
  }
  console.log(JSON.stringify(seen));
} catch (e) {
  console.error(`dag_layout_page.mjs: ${e.message}\nseen so far: ${JSON.stringify(seen)}`);
  if (page) {
    await page.screenshot({path: screenshot.replace(/\.png$/, '-failure.png')}).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(overall);
}
