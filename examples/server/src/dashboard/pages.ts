import type { QueueJson, TaskDetailJson, TaskListPage, TaskListQuery } from './api.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const e = escapeHtml;

function layout(title: string, body: string, page: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} · Conveyor</title><link rel="stylesheet" href="/dashboard/assets/app.css"></head>
<body data-page="${e(page)}">
<header><a class="brand" href="/dashboard">Conveyor</a><nav><a href="/dashboard">Tasks</a><a href="/dashboard/queue">Queue</a></nav><span id="live" class="live off" title="live updates">live</span></header>
<main>${body}</main>
<script src="/dashboard/assets/app.js" defer></script>
</body></html>`;
}

const statusBadge = (status: string) => `<span class="badge s-${e(status)}">${e(status)}</span>`;

/** The login form (shown when a token is set and the request carries none). */
export function loginPage(failed: boolean): string {
  return layout(
    'Sign in',
    `<form class="login" method="post" action="/dashboard/login">
<h1>Sign in</h1>
${failed ? '<p class="error" role="alert">That token is not right.</p>' : ''}
<label>Dashboard token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
<p class="hint">The token is the host's <code>ORCH_DASHBOARD_TOKEN</code>.</p>
</form>`,
    'login',
  );
}

function hrefWith(query: TaskListQuery, cursor: string): string {
  const params = new URLSearchParams();
  if (query.project) params.set('project', query.project);
  if (query.stage) params.set('stage', query.stage);
  if (query.status) params.set('status', query.status);
  if (query.q) params.set('q', query.q);
  params.set('cursor', cursor);
  return `/dashboard?${params.toString()}`;
}

const STATUSES = ['active', 'awaiting_approval', 'gating', 'blocked', 'failed', 'rejected', 'done'];

/** The task list with its filters. */
export function taskListPage(query: TaskListQuery, page: TaskListPage): string {
  const rows = page.tasks
    .map(
      (t) => `<tr data-task-id="${e(t.id)}">
<td><a href="/dashboard/tasks/${encodeURIComponent(t.id)}">${e(t.issueId)}</a></td>
<td>${e(t.title)}</td><td>${e(t.project)}</td>
<td class="stage">${e(t.stage)}</td><td class="status">${statusBadge(t.status)}</td>
<td class="verdict">${t.lastVerdict ? `${statusBadge(t.lastVerdict.status)} ${e(t.lastVerdict.summary)}` : ''}</td>
<td><time datetime="${e(t.updatedAt)}">${e(t.updatedAt)}</time></td></tr>`,
    )
    .join('\n');
  const options = STATUSES.map(
    (s) => `<option value="${s}"${query.status === s ? ' selected' : ''}>${s}</option>`,
  ).join('');
  return layout(
    'Tasks',
    `<h1>Tasks</h1>
<form class="filters" method="get" action="/dashboard">
<input name="q" placeholder="search id, issue, title, branch" value="${e(query.q ?? '')}">
<input name="project" placeholder="project" value="${e(query.project ?? '')}">
<input name="stage" placeholder="stage" value="${e(query.stage ?? '')}">
<select name="status"><option value="">any status</option>${options}</select>
<button type="submit">Filter</button></form>
<p id="new-tasks" class="notice" hidden>New activity on tasks not in this list. <a href="">Reload</a></p>
<table class="tasks"><thead><tr><th>Issue</th><th>Title</th><th>Project</th><th>Stage</th><th>Status</th><th>Last verdict</th><th>Updated</th></tr></thead>
<tbody>${rows || '<tr><td colspan="7" class="empty">No tasks match.</td></tr>'}</tbody></table>
${page.nextCursor ? `<p><a class="next" href="${e(hrefWith(query, page.nextCursor))}">Next page →</a></p>` : ''}`,
    'tasks',
  );
}

/** A task: its stage timeline, every decision with each gate's verdict, jobs and artifacts. */
export function taskPage(detail: TaskDetailJson): string {
  const t = detail.task;
  const timeline = detail.timeline
    .map(
      (h) =>
        `<li><time datetime="${e(h.at)}">${e(h.at)}</time> <b>${e(h.from)}</b> → <b>${e(h.to)}</b> <span class="cause">${e(h.cause)}</span>${h.verdictSummary ? ` <span class="summary">${e(h.verdictSummary)}</span>` : ''}</li>`,
    )
    .join('\n');
  const decisions = detail.decisions
    .map((d) => {
      const verdicts = d.verdicts
        .map(
          (v) =>
            `<tr><td>${e(v.gateId)}</td><td>${statusBadge(v.status)}</td><td>${e(v.summary)}${
              v.findings && v.findings.length > 0
                ? `<ul class="findings">${v.findings
                    .map(
                      (f) =>
                        `<li>${e([f.rule, f.file && `${f.file}${f.line ? `:${f.line}` : ''}`].filter(Boolean).join(' '))} ${e(f.message)}</li>`,
                    )
                    .join('')}</ul>`
                : ''
            }</td><td>${v.durationMs === undefined ? '' : `${v.durationMs} ms`}</td></tr>`,
        )
        .join('');
      return `<section class="decision"><h3>${e(d.edge)} ${statusBadge(d.status)} <time datetime="${e(d.at)}">${e(d.at)}</time></h3>
<p>${e(d.summary)}</p>${d.headSha ? `<p class="shas">head <code>${e(d.headSha.slice(0, 12))}</code> on base <code>${e((d.baseSha ?? '').slice(0, 12))}</code></p>` : ''}
${verdicts ? `<table class="verdicts"><thead><tr><th>Gate</th><th>Verdict</th><th>Summary</th><th>Took</th></tr></thead><tbody>${verdicts}</tbody></table>` : ''}</section>`;
    })
    .join('\n');
  const jobs = detail.jobs
    .map(
      (j) =>
        `<tr><td>${e(j.stage)}</td><td>${e(j.agent)}</td><td>${e(j.kind)}</td><td>${statusBadge(j.status)}</td><td>${j.attempt}</td><td>${j.exitCode ?? ''}</td><td>${e(j.reason ?? '')}</td><td><time datetime="${e(j.createdAt)}">${e(j.createdAt)}</time></td></tr>`,
    )
    .join('\n');
  const artifacts = detail.artifacts
    .map((a) => `<details><summary>${e(a.name)}</summary><pre>${e(a.text)}</pre></details>`)
    .join('\n');
  return layout(
    t.issueId,
    `<h1><span class="issue">${e(t.issueId)}</span> ${e(t.title)}</h1>
<p class="meta" data-task-id="${e(t.id)}">${e(t.project)} · ${e(t.repo)} · <code>${e(t.branch)}</code> · stage <b id="task-stage">${e(t.stage)}</b> · <span id="task-status">${statusBadge(t.status)}</span>${t.reason ? ` · ${e(t.reason)}` : ''}</p>
${t.findings ? `<section class="findings-text"><h2>Findings handed to the developer</h2><pre>${e(t.findings)}</pre></section>` : ''}
<h2>Timeline</h2><ol id="timeline" class="timeline">${timeline}</ol>
<h2>Decisions</h2><div id="decisions">${decisions || '<p class="empty">No decision yet.</p>'}</div>
<h2>Jobs</h2><table class="jobs"><thead><tr><th>Stage</th><th>Agent</th><th>Kind</th><th>Status</th><th>Attempt</th><th>Exit</th><th>Reason</th><th>Created</th></tr></thead><tbody>${jobs}</tbody></table>
<h2>Reports and transcripts</h2>${artifacts || '<p class="empty">None.</p>'}`,
    'task',
  );
}

/** The queue, the leases and the daemons. */
export function queuePage(queue: QueueJson): string {
  const jobRows = (jobs: QueueJson['running']) =>
    jobs
      .map(
        (j) =>
          `<tr><td><a href="/dashboard/tasks/${encodeURIComponent(j.taskId)}">${e(j.taskId)}</a></td><td>${e(j.stage)}</td><td>${e(j.kind)}</td><td>${j.pid ?? ''}</td><td><time datetime="${e(j.availableAt)}">${e(j.availableAt)}</time></td></tr>`,
      )
      .join('');
  const head = '<thead><tr><th>Task</th><th>Stage</th><th>Kind</th><th>Pid</th><th>Available</th></tr></thead>';
  const leases = queue.leases
    .map((l) => `<tr><td>${e(l.name)}</td><td>${e(l.holder)}</td><td>${l.token}</td><td>${e(l.expiresAt)}</td></tr>`)
    .join('');
  return layout(
    'Queue',
    `<h1>Queue</h1>
<h2>Running (${queue.running.length})</h2><table>${head}<tbody>${jobRows(queue.running)}</tbody></table>
<h2>Queued (${queue.queued.length})</h2><table>${head}<tbody>${jobRows(queue.queued)}</tbody></table>
<h2>Leases</h2><table><thead><tr><th>Name</th><th>Holder</th><th>Token</th><th>Expires</th></tr></thead><tbody>${leases}</tbody></table>
<h2>Daemons</h2><pre>${e(JSON.stringify(queue.daemons ?? null, null, 2))}</pre>`,
    'queue',
  );
}

/** The dashboard's stylesheet, served by the host (no CDN). */
export const APP_CSS = `:root{font-family:system-ui,sans-serif;color:#1b1f24;background:#f6f7f9}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;background:#1b1f24;color:#fff}
header a{color:#fff;text-decoration:none;margin-right:1rem}.brand{font-weight:700}
main{padding:1rem 1.5rem;max-width:1200px}table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1rem}
th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.badge{border-radius:.6rem;padding:0 .45rem;font-size:.8rem;background:#e3e6ea}
.s-pass,.s-done,.s-succeeded{background:#c9f0d3}.s-fail,.s-failed,.s-error,.s-blocked,.s-rejected{background:#f8c9c9}
.s-defer,.s-gating,.s-running{background:#fbe7b5}.live{margin-left:auto;font-size:.8rem}.live.on::before{content:"● ";color:#3c3}
.live.off::before{content:"● ";color:#999}.filters{display:flex;gap:.5rem;margin-bottom:1rem}.notice{background:#fbe7b5;padding:.4rem}
pre{background:#fff;border:1px solid #e3e6ea;padding:.6rem;overflow:auto;max-height:30rem}.flash{animation:flash 1.5s}
@keyframes flash{from{background:#fbe7b5}to{background:transparent}}.login{max-width:22rem;display:grid;gap:.6rem}.error{color:#a00}`;

/** The dashboard's script: live updates over server-sent events. */
export const APP_JS = `(() => {
  const page = document.body.dataset.page;
  if (page === 'login') return;
  const live = document.getElementById('live');
  const source = new EventSource('/api/events');
  source.onopen = () => { live.className = 'live on'; };
  source.onerror = () => { live.className = 'live off'; };
  const text = (tag, value, cls) => { const el = document.createElement(tag); if (cls) el.className = cls; el.textContent = value; return el; };
  const badge = (status) => text('span', status, 'badge s-' + status);
  const onTask = (taskId, data) => {
    if (page === 'tasks') {
      const row = document.querySelector('tr[data-task-id="' + CSS.escape(taskId) + '"]');
      if (!row) { const n = document.getElementById('new-tasks'); if (n) n.hidden = false; return; }
      if (data && data.to) {
        row.querySelector('.stage').textContent = data.to.stage;
        row.querySelector('.status').replaceChildren(badge(data.to.status));
      }
      row.classList.remove('flash'); void row.offsetWidth; row.classList.add('flash');
    } else if (page === 'task') {
      const meta = document.querySelector('.meta[data-task-id]');
      if (!meta || meta.dataset.taskId !== taskId) return;
      fetch('/api/tasks/' + encodeURIComponent(taskId), { credentials: 'same-origin' })
        .then((r) => r.ok ? r.json() : Promise.reject(new Error(String(r.status))))
        .then((detail) => {
          document.getElementById('task-stage').textContent = detail.task.stage;
          document.getElementById('task-status').replaceChildren(badge(detail.task.status));
          const list = document.getElementById('timeline');
          list.replaceChildren(...detail.timeline.map((h) => {
            const li = document.createElement('li');
            li.append(text('time', h.at), ' ', text('b', h.from), ' → ', text('b', h.to), ' ', text('span', h.cause, 'cause'));
            if (h.verdictSummary) li.append(' ', text('span', h.verdictSummary, 'summary'));
            return li;
          }));
          list.classList.remove('flash'); void list.offsetWidth; list.classList.add('flash');
        })
        .catch(() => {});
    }
  };
  for (const name of ['transition', 'edge.decided', 'job.started', 'job.finished']) {
    source.addEventListener(name, (event) => {
      try { const data = JSON.parse(event.data); if (data.taskId) onTask(data.taskId, name === 'transition' ? data : undefined); } catch {}
    });
  }
})();`;
