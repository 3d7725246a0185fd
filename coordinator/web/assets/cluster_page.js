// The cluster page (/cluster): every connected worker (labels, capacity and use, version, since
// when, the stacks it runs), the tenants' shares and quotas, and why waiting stacks wait, in the
// words of `hollerith status`. Refreshed every two seconds from /api/cluster.
'use strict';

function clusterPage() {
  setCrumb('cluster');
  const app = document.getElementById('app');
  app.replaceChildren(
      el('h1', {}, 'Cluster ', el('span', {class: 'muted', id: 'cluster-version'})),
      el('p', {class: 'muted', id: 'cluster-capacity'}),
      el('h2', {}, 'Workers'),
      el('table', {class: 'jobs', id: 'workers'},
         el('thead', {}, el('tr', {}, ...['worker', 'labels', 'slots', 'capacity', 'placed',
                                          'version', 'connected', 'stacks'].map(
                                              h => el('th', {}, h)))),
         el('tbody', {})),
      el('p', {id: 'no-workers', class: 'muted', hidden: ''},
         'No worker is connected: hollerith-worker --coordinator ADDRESS'),
      el('section', {id: 'tenants-section', hidden: ''},
         el('h2', {}, 'Tenants'),
         el('table', {class: 'jobs', id: 'tenants'},
            el('thead', {}, el('tr', {}, ...['tenant', 'weight', 'share', 'quota', 'in use',
                                             'running', 'waiting'].map(h => el('th', {}, h)))),
            el('tbody', {}))),
      el('h2', {}, 'Waiting stacks'),
      el('ul', {id: 'cluster-waiting'}));
  const refresh = async () => {
    let c;
    try {
      c = await api('/api/cluster');
    } catch (e) {
      setLive(false, e.message);
      return;
    }
    setLive(true);
    renderCluster(c);
  };
  refresh();
  setInterval(refresh, 2000);
}

function jobLink(id, text) {
  return el('a', {href: '/jobs/' + encodeURIComponent(id)}, text);
}

function renderCluster(c) {
  document.getElementById('cluster-version').textContent = 'coordinator ' + c.coordinator_version;
  document.getElementById('cluster-capacity').textContent =
      `${c.workers.length} workers` + (c.capacity ? `, ${c.capacity} in all` : '');
  document.getElementById('no-workers').hidden = c.workers.length > 0;
  document.querySelector('#workers tbody').replaceChildren(...c.workers.map(w => el(
      'tr', {'data-worker': w.name},
      el('td', {}, w.name),
      el('td', {}, Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'),
      el('td', {}, `${w.running_cards} running / ${w.slots}`),
      el('td', {}, w.capacity || '—'),
      el('td', {}, w.placed || '—'),
      el('td', {}, w.version),
      el('td', {title: new Date(w.connected_wall_us / 1000).toISOString()},
         w.connected_wall_us ? age(w.connected_wall_us) + ' ago' : '—'),
      el('td', {class: 'placed'},
         ...w.placed_stacks.flatMap((p, i) => [i ? ', ' : '',
                                               jobLink(p.job_id, `${p.job_name}/${p.stack}`)]),
         w.placed_stacks.length < w.stacks ? ` (+${w.stacks - w.placed_stacks.length} of others)`
                                           : ''))));
  document.getElementById('tenants-section').hidden = c.tenants.length === 0;
  document.querySelector('#tenants tbody').replaceChildren(...c.tenants.map(t => el(
      'tr', {'data-tenant': t.name},
      el('td', {}, t.name), el('td', {}, String(t.weight)), el('td', {}, t.share.toFixed(2)),
      el('td', {}, [t.quota, t.max_stacks ? `stacks=${t.max_stacks}` : ''].filter(Boolean)
                       .join(',') || 'none'),
      el('td', {}, t.in_use || '—'), el('td', {}, String(t.running_stacks)),
      el('td', {}, String(t.waiting_stacks)))));
  const waiting = document.getElementById('cluster-waiting');
  waiting.replaceChildren(...c.waiting.map(s => el(
      'li', {'data-waiting': `${s.job_id}/${s.stack}`},
      jobLink(s.job_id, `${s.job_name} (${s.job_id})`), ` ${s.stack}: ${s.reason}`)));
  if (c.waiting.length === 0) waiting.append(el('li', {class: 'muted'}, 'none'));
}
