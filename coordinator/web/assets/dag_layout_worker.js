// The job graph's layout, off the page's thread: dagre (bundled at build time, served as
// /dagre.min.js) places the boxes in layers left to right and routes the edges between them.
//
// Request: {id, nodes: [{id, width, height, layer}], edges: [[from, to]]}, every edge from a lower
// layer to a higher one. The layers are given (the page computes them: a stack's depth), so
// dagre's ranking is off; dagre orders each layer to cut crossings, places the boxes and bends
// the edges around those in between. Reply: {id, width, height, boxes: [x, y, ...] (each node's
// top left, in the request's order), bends: [[x, y, x, y, ...], ...] (each edge's points without
// its ends, in the request's order; none for an edge to the next layer that dagre was not given:
// nothing stands between two neighbouring layers), ms}, or {id, error}.
'use strict';

importScripts('/dagre.min.js');

// Up to this many boxes, dagre gets every edge and orders the layers itself (sweeps until the
// crossings stop falling). Above it, dagre's costs grow with each layer's square and with every
// edge (each takes a bend point of its own): it gets the edges that skip layers and one edge into
// each box from the layer before (enough to line boxes up with a producer), and a few barycenter
// sweeps of ours order the layers (orderQuickly).
const LARGE = 800;
const GAP_X = 90, GAP_Y = 14, MARGIN = 16;

onmessage = e => {
  const {id, nodes, edges} = e.data;
  try {
    const started = performance.now();
    postMessage({id, ...layOut(nodes, edges), ms: Math.round(performance.now() - started)});
  } catch (err) {
    postMessage({id, error: String(err && err.message || err)});
  }
};

function layOut(nodes, edges) {
  const g = new dagre.graphlib.Graph();
  // dagre halves ranksep and doubles every edge's length (room for edge labels): a layer is two
  // ranks apart, with one rank of bends between them.
  g.setGraph({rankdir: 'LR', ranker: 'none', ranksep: GAP_X, nodesep: GAP_Y, edgesep: 6,
              marginx: MARGIN, marginy: MARGIN});
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, {width: n.width, height: n.height, rank: 2 * n.layer});
  const large = nodes.length > LARGE;
  const layer = new Map(nodes.map(n => [n.id, n.layer]));
  const fed = new Set();  // boxes with an edge from the layer before, in large drawings
  const given = edges.map(([from, to]) => {
    if (!(layer.get(to) > layer.get(from))) return false;  // dagre's layering would not hold
    if (large && layer.get(to) === layer.get(from) + 1) {
      if (fed.has(to)) return false;
      fed.add(to);
    }
    g.setEdge(from, to);
    return true;
  });
  dagre.layout(g, large ? {customOrder: orderQuickly} : {});
  const boxes = [];
  for (const n of nodes) {
    const b = g.node(n.id);
    boxes.push(b.x - b.width / 2, b.y - b.height / 2);
  }
  const bends = edges.map(([from, to], i) => {
    if (!given[i]) return [];
    return g.edge(from, to).points.slice(1, -1).flatMap(p => [Math.round(p.x), Math.round(p.y)]);
  });
  return {width: g.graph().width, height: g.graph().height, boxes, bends};
}

// The order of each rank of dagre's layout graph (boxes and the bends of long edges): the input's
// order first, then each rank sorted by the mean position of its neighbours in the rank before
// (down) or after (up), twice each way: O(edges + boxes log boxes) a sweep.
function orderQuickly(g) {
  const ranks = [];
  for (const v of g.nodes()) {
    const r = g.node(v).rank;
    (ranks[r] || (ranks[r] = [])).push(v);
  }
  const pos = new Map();
  const number = rank => rank.forEach((v, i) => pos.set(v, i));
  ranks.forEach(rank => rank && number(rank));
  const sweep = (from, to, step, neighbours) => {
    for (let r = from; r !== to; r += step) {
      const rank = ranks[r];
      if (!rank) continue;
      const at = new Map();
      for (const v of rank) {
        const ns = neighbours(v) || [];
        let sum = 0;
        for (const n of ns) sum += pos.get(n);
        at.set(v, ns.length ? sum / ns.length : pos.get(v));
      }
      rank.sort((a, b) => at.get(a) - at.get(b) || pos.get(a) - pos.get(b));
      number(rank);
    }
  };
  for (let i = 0; i < 2; ++i) {
    sweep(1, ranks.length, 1, v => g.predecessors(v));
    sweep(ranks.length - 2, -1, -1, v => g.successors(v));
  }
  for (const [v, i] of pos) g.node(v).order = i;
}
