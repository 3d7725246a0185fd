// The page's side of the job graph's layout (dag_layout_worker.js): one worker for the page and
// a promise per request.
'use strict';

class DagLayout {
  static worker = null;
  static pending = new Map();  // request id -> {resolve, reject}
  static lastId = 0;

  // `nodes`: [{id, width, height, layer}], `edges`: [[from id, to id]], each to a higher layer.
  // Resolves to the worker's reply (see dag_layout_worker.js).
  static request(nodes, edges) {
    if (!DagLayout.worker) DagLayout.start();
    const id = ++DagLayout.lastId;
    return new Promise((resolve, reject) => {
      DagLayout.pending.set(id, {resolve, reject});
      DagLayout.worker.postMessage({id, nodes, edges});
    });
  }

  static start() {
    const worker = new Worker('/dag_layout_worker.js');
    worker.onmessage = e => {
      const waiter = DagLayout.pending.get(e.data.id);
      if (!waiter) return;
      DagLayout.pending.delete(e.data.id);
      if (e.data.error) waiter.reject(new Error(e.data.error));
      else waiter.resolve(e.data);
    };
    // The worker could not start (its script or dagre's did not load): every request fails, and
    // the next one starts a new worker.
    worker.onerror = e => {
      e.preventDefault();
      for (const waiter of DagLayout.pending.values()) {
        waiter.reject(new Error(e.message || 'the layout worker failed'));
      }
      DagLayout.pending.clear();
      worker.terminate();
      if (DagLayout.worker === worker) DagLayout.worker = null;
    };
    DagLayout.worker = worker;
  }
}

// On a job's page the worker starts (and loads dagre) while the job's graph is fetched.
if (/^\/jobs\/[^/]+$/.test(location.pathname)) DagLayout.start();
