// The job graph's shape, for its drawing (dag_view.js): which cards feed which across stacks, each
// stack's layer (its depth: the longest chain of stacks before it), the groups a matrix's stacks
// fall into, and the critical path. Plain data in, plain data out: no DOM, nothing drawn here.
'use strict';

class DagModel {
  // `stacks`: id -> {cards: [card names]} in the graph's order; `cards`: name -> {stack, index,
  // after: [names], inputs: [{from}]} (JobView's model).
  constructor(stacks, cards) {
    this.stacks = stacks;
    this.cards = cards;
    this.edges = DagModel.crossEdges(cards);
    this.depth = DagModel.depths([...stacks.keys()], this.edges, cards);
    this.layers = 1 + [...this.depth.values()].reduce((a, b) => Math.max(a, b), 0);
  }

  // Every distinct producer -> consumer pair of cards in different stacks (`after` and `inputs`),
  // as {from, to} card names.
  static crossEdges(cards) {
    const edges = [];
    for (const c of cards.values()) {
      const from = new Set([...c.after, ...c.inputs.map(i => i.from)].filter(Boolean));
      for (const f of from) {
        const producer = cards.get(f);
        if (producer && producer.stack !== c.stack) edges.push({from: f, to: c.name});
      }
    }
    return edges;
  }

  // Each stack's depth: 0 without a producer in another stack, else one more than its deepest
  // producer's stack (a longest path, in O(stacks + edges)). Stacks that feed each other both
  // ways (A.1 -> B.1 -> A.2) make a cycle of stacks: when only such stacks are left, the first
  // of them in the graph's order is placed as if its producers left were not there, and the
  // edges from those are drawn backwards (isBack).
  static depths(order, edges, cards) {
    const preds = new Map(order.map(id => [id, new Set()]));
    const succs = new Map(order.map(id => [id, new Set()]));
    for (const e of edges) {
      const s = cards.get(e.from).stack, t = cards.get(e.to).stack;
      preds.get(t).add(s);
      succs.get(s).add(t);
    }
    const depth = new Map();
    const waiting = new Map(order.map(id => [id, preds.get(id).size]));
    const ready = order.filter(id => waiting.get(id) === 0);
    let next = 0;  // the first stack in the graph's order that may still be unplaced
    while (depth.size < order.length) {
      if (ready.length === 0) {  // only cycles left: break one
        while (depth.has(order[next])) ++next;
        ready.push(order[next]);
      }
      const id = ready.pop();
      if (depth.has(id)) continue;
      let d = 0;
      for (const p of preds.get(id)) if (depth.has(p)) d = Math.max(d, depth.get(p) + 1);
      depth.set(id, d);
      for (const s of succs.get(id)) {
        waiting.set(s, waiting.get(s) - 1);
        if (waiting.get(s) === 0 && !depth.has(s)) ready.push(s);
      }
    }
    return depth;
  }

  // An edge between stacks that does not go to a deeper layer (one that closed a cycle).
  isBack(fromStack, toStack) {
    return this.depth.get(fromStack) >= this.depth.get(toStack);
  }

  // The matrix groups: stacks named BASE-... (build-debian-1, build-alpine-2: BASE is the name
  // before the first '-') in the same layer, at least 3 of them. Returns stack id -> group id
  // and group id -> {id, base, depth, members: [stack ids]}; a group's id is "BASE-*@DEPTH".
  groups() {
    const byKey = new Map();
    for (const id of this.stacks.keys()) {
      const dash = id.indexOf('-');
      if (dash <= 0) continue;
      const base = id.slice(0, dash), depth = this.depth.get(id);
      const key = `${base}-*@${depth}`;
      if (!byKey.has(key)) byKey.set(key, {id: key, base, depth, members: []});
      byKey.get(key).members.push(id);
    }
    const groupOf = new Map(), groups = new Map();
    for (const g of byKey.values()) {
      if (g.members.length < 3) continue;
      groups.set(g.id, g);
      for (const id of g.members) groupOf.set(id, g.id);
    }
    return {groupOf, groups};
  }

  // The chain of cards that decided the job's duration: the longest path through the cards,
  // each weighing `duration(name)` ms, along each stack's order (card k after card k-1) and the
  // cross-stack edges. Returns {cards: Set of names, edges: Set of "FROM\nTO" cross-stack pairs};
  // empty while no card has taken any time.
  criticalPath(duration) {
    const preds = new Map(), succs = new Map();
    for (const name of this.cards.keys()) {
      preds.set(name, []);
      succs.set(name, []);
    }
    const link = (from, to) => {
      preds.get(to).push(from);
      succs.get(from).push(to);
    };
    for (const s of this.stacks.values()) {
      for (let i = 1; i < s.cards.length; ++i) link(s.cards[i - 1], s.cards[i]);
    }
    for (const e of this.edges) link(e.from, e.to);
    // Kahn's order: a card's finish is known before its successors'.
    const finish = new Map(), via = new Map();
    const waiting = new Map([...preds].map(([n, p]) => [n, p.length]));
    const ready = [...this.cards.keys()].filter(n => waiting.get(n) === 0);
    let end = null;
    while (ready.length) {
      const n = ready.pop();
      let start = 0, best = null;
      for (const p of preds.get(n)) {
        if (finish.get(p) > start || best === null) {
          start = Math.max(start, finish.get(p));
          best = p;
        }
      }
      finish.set(n, start + Math.max(0, duration(n) || 0));
      via.set(n, best);
      // The last of the latest: the chain runs on through the cards that took no time.
      if (end === null || finish.get(n) >= finish.get(end)) end = n;
      for (const s of succs.get(n)) {
        waiting.set(s, waiting.get(s) - 1);
        if (waiting.get(s) === 0) ready.push(s);
      }
    }
    const path = {cards: new Set(), edges: new Set()};
    if (end === null || !(finish.get(end) > 0)) return path;
    for (let n = end; n !== null; n = via.get(n)) {
      path.cards.add(n);
      const p = via.get(n);
      if (p !== null && this.cards.get(p).stack !== this.cards.get(n).stack) {
        path.edges.add(p + '\n' + n);
      }
    }
    return path;
  }
}
