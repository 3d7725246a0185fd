// The job page's actions: cancel a running job, download its trace and its result JSON, and the
// `hollerith` command that shows the same. Cancel is a POST carrying the session's CSRF token
// (GET /api/session), which the server requires of every state-changing request.
'use strict';

let csrfToken = null;

async function sessionCsrf() {
  if (csrfToken === null) csrfToken = (await api('/api/session')).csrf;
  return csrfToken;
}

async function cancelJob(id) {
  const r = await fetch(`/api/jobs/${encodeURIComponent(id)}/cancel`, {
    method: 'POST', credentials: 'same-origin',
    headers: {'X-CSRF-Token': await sessionCsrf()}});
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body.state;
}

// The actions' bar for `job` (its id and state); updateJobActions keeps it current.
function jobActions(job) {
  const id = encodeURIComponent(job.id);
  const command = `hollerith watch ${job.id}`;
  const note = el('span', {id: 'action-note', class: 'muted', role: 'status'});
  const cancel = el('button', {id: 'cancel-job', type: 'button', onclick: async () => {
    if (!confirm(`Cancel job ${job.id}? Its running cards are stopped.`)) return;
    cancel.disabled = true;
    try {
      note.textContent = 'cancel: ' + await cancelJob(job.id);
    } catch (e) {
      note.textContent = 'cancel failed: ' + e.message;
      cancel.disabled = false;
    }
  }}, 'Cancel job');
  const copy = el('button', {id: 'copy-command', type: 'button', onclick: async () => {
    try {
      await navigator.clipboard.writeText(command);
      note.textContent = 'copied';
    } catch (e) {  // no clipboard (plain http off loopback): select the text to copy by hand
      getSelection().selectAllChildren(document.getElementById('job-command'));
      note.textContent = 'selected: press Ctrl+C';
    }
  }}, 'Copy');
  const bar = el('div', {id: 'job-actions', class: 'actions'},
                 cancel,
                 el('a', {id: 'download-trace', class: 'button', href: `/api/jobs/${id}/trace`,
                          download: `${job.id}.trace.json`}, 'Trace'),
                 el('a', {id: 'download-result', class: 'button', href: `/api/jobs/${id}/result`,
                          download: `${job.id}.result.json`}, 'Result JSON'),
                 el('code', {id: 'job-command'}, command), copy, note);
  updateJobActions(job, bar);
  return bar;
}

function updateJobActions(job, bar = document.getElementById('job-actions')) {
  if (!bar) return;
  const running = job.state === 'running';
  bar.querySelector('#cancel-job').hidden = !running;
  bar.querySelector('#download-result').hidden = running;
}
