/**
 * The demo's server-rendered HTML. Every value that could come from a user goes through
 * {@link escapeHtml}.
 *
 * @module
 */
import type { SessionInfo } from '../../src/index.ts'
import { describeUserAgent } from './user-agent.ts'

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

/** What every page shows around its content. */
export interface Frame {
  /** The logged-in user, if any. */
  readonly user: string | undefined
  /** A one-time message (flash), if any. */
  readonly message?: string | undefined
  /** Which storage the demo runs on, for the footer. */
  readonly storage: string
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f5f7fa}
nav{display:flex;align-items:center;gap:1.25rem;padding:.75rem 1.5rem;background:#1f2933;color:#fff}
nav .brand{font-weight:700;margin-right:auto;letter-spacing:.02em}
nav a,nav button{color:#d9e2ec;text-decoration:none;font:inherit;background:none;border:0;padding:0;cursor:pointer}
nav a:hover,nav button:hover{color:#fff;text-decoration:underline}
nav form{margin:0}
main{max-width:44rem;margin:2rem auto;padding:0 1.25rem}
.card{background:#fff;border:1px solid #e4e7eb;border-radius:10px;padding:1.25rem 1.5rem;margin-bottom:1.25rem;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h1{font-size:1.6rem;margin:0 0 .5rem}
.flash{background:#e3f9e5;border:1px solid #91d69a;color:#05400a;border-radius:10px;padding:.75rem 1rem;margin-bottom:1.25rem}
.error{background:#ffe3e3;border:1px solid #f29b9b;color:#610404;border-radius:10px;padding:.75rem 1rem;margin-bottom:1rem}
.counter{display:flex;align-items:center;gap:1.25rem}
.count{font-size:3rem;font-weight:700;line-height:1;color:#2680c2;min-width:3rem;text-align:center}
a{color:#2680c2}
.muted{color:#616e7c;font-size:.9rem}
label{display:block;font-weight:600;margin-bottom:.35rem}
input[type=text]{width:100%;padding:.55rem .7rem;font:inherit;border:1px solid #9aa5b1;border-radius:6px}
button.primary,button.danger{margin-top:.75rem;padding:.5rem 1rem;font:inherit;border-radius:6px;border:0;color:#fff;cursor:pointer}
button.primary{background:#2680c2}button.danger{background:#ba2525}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.5rem .4rem;border-bottom:1px solid #e4e7eb;vertical-align:middle}
td form{margin:0}td button.danger{margin:0;padding:.3rem .7rem;font-size:.9rem}
td.device{font-weight:600;min-width:10rem}td .muted{display:block;font-weight:400}
.badge{display:inline-block;background:#2680c2;color:#fff;border-radius:999px;padding:0 .6rem;font-size:.8rem;white-space:nowrap}
footer{max-width:44rem;margin:0 auto 2rem;padding:0 1.25rem}
`

function layout(title: string, frame: Frame, content: string): string {
  const account = frame.user
    ? `<form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : `<a href="/login">Log in</a>`
  const flash = frame.message
    ? `<div class="flash" role="status">${escapeHtml(frame.message)}</div>`
    : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · sessionware demo</title>
<style>${STYLE}</style>
</head>
<body>
<nav><span class="brand">sessionware demo</span><a href="/">Home</a><a href="/sessions">Your sessions</a>${account}</nav>
<main>
${flash}${content}
</main>
<footer class="muted">Storage: ${escapeHtml(frame.storage)}</footer>
</body>
</html>
`
}

function when(date: Date): string {
  const text = `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`
  return `<time datetime="${date.toISOString()}">${text}</time>`
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
]

/** "14 days", "3 hours", "1 second": rounded, in the largest unit that gives at least 2. */
function duration(seconds: number): string {
  for (const [unit, size] of UNITS) {
    if (seconds >= 2 * size) return `${Math.round(seconds / size)} ${unit}s`
  }
  const count = Math.round(seconds)
  return `${count} second${count === 1 ? '' : 's'}`
}

/** The home page: a visit counter and who is logged in. */
export function homePage(frame: Frame, visits: number, timeLeft: number): string {
  const greeting = frame.user
    ? `<p>You are logged in as <strong>${escapeHtml(frame.user)}</strong>.
       See <a href="/sessions">your sessions</a> on other devices.</p>`
    : `<p>You are not logged in. <a href="/login">Log in</a> with any name to try logins,
       flash messages and session revocation.</p>`
  return layout(
    'Home',
    frame,
    `<div class="card">
<h1>Hello${frame.user ? `, ${escapeHtml(frame.user)}` : ''}</h1>
${greeting}
</div>
<div class="card counter">
<span class="count" id="visits">${visits}</span>
<div>${visits === 1 ? 'visit' : 'visits'} to this page in this session<br>
<span class="muted">The session expires in ${duration(timeLeft)} unless it stays active.</span></div>
</div>`,
  )
}

/** The login form. */
export function loginPage(frame: Frame, error?: string, value = ''): string {
  const problem = error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''
  const already = frame.user
    ? `<p class="muted">You are logged in as ${escapeHtml(frame.user)}; logging in again starts a new session.</p>`
    : ''
  return layout(
    'Log in',
    frame,
    `<div class="card">
<h1>Log in</h1>
${already}${problem}
<form method="post" action="/login">
<label for="username">Your name</label>
<input type="text" id="username" name="username" value="${escapeHtml(value)}" required maxlength="64" autocomplete="username" autofocus>
<button class="primary" type="submit">Log in</button>
</form>
<p class="muted">No password: this demo shows sessions, not authentication.</p>
</div>`,
  )
}

/**
 * The device cell of a session: browser and system named from the User-Agent (the full header in
 * a tooltip), with the last address below. Both are whatever the client sent: escaped.
 */
function device(info: SessionInfo): string {
  const name = escapeHtml(describeUserAgent(info.userAgent))
  const tip = info.userAgent === undefined ? '' : ` title="${escapeHtml(info.userAgent)}"`
  const address = info.address === undefined ? 'address unknown' : escapeHtml(info.address)
  return `<td class="device"><span${tip}>${name}</span><span class="muted">${address}</span></td>`
}

/**
 * "Your sessions" for server storage: each active session (browser, system and last address, when
 * it was created and last active) with a revoke button.
 */
export function sessionsPage(
  frame: Frame,
  list: readonly SessionInfo[],
  current: string | null,
): string {
  // This session first, then the others, most recently active first (the store's order).
  const ordered = [...list].sort(
    (a, b) => Number(b.handle === current) - Number(a.handle === current),
  )
  const rows = ordered
    .map((info) => {
      const action =
        info.handle === current
          ? '<span class="badge">This session</span>'
          : `<form method="post" action="/sessions/revoke">
<input type="hidden" name="handle" value="${escapeHtml(info.handle)}">
<button class="danger" type="submit">Revoke</button></form>`
      return `<tr${info.handle === current ? ' class="current"' : ''}>${device(info)}<td>${when(info.createdAt)}</td><td>${when(info.lastActiveAt)}</td><td>${action}</td></tr>`
    })
    .join('\n')
  const others = list.some((info) => info.handle !== current)
    ? `<form method="post" action="/sessions/revoke-others">
<button class="danger" type="submit">Sign out everywhere else</button></form>`
    : '<p class="muted">You are not signed in anywhere else.</p>'
  return layout(
    'Your sessions',
    frame,
    `<div class="card">
<h1>Your sessions</h1>
<p>Where <strong>${escapeHtml(frame.user)}</strong> is signed in. Revoke a session you do not recognise.</p>
<table>
<thead><tr><th>Device</th><th>Created</th><th>Last active</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${others}
</div>`,
  )
}

/** "Your sessions" under cookie storage, which cannot list sessions. */
export function cookieSessionsPage(frame: Frame, createdAt: Date): string {
  return layout(
    'Your sessions',
    frame,
    `<div class="card">
<h1>Your sessions</h1>
<p>This demo keeps sessions in the cookie itself (cookie storage), so the server has no list of
them: listing and revoking sessions needs a server store. Run the demo with
<code>SESSION_STORE=sqlite</code> (or <code>memory</code>, <code>redis</code>,
<code>postgres</code>) to try it.</p>
<p>This session was created ${when(createdAt)}.</p>
</div>`,
  )
}

/** "Your sessions" under a server store without a subject index (memcached). */
export function unindexedSessionsPage(frame: Frame, createdAt: Date): string {
  return layout(
    'Your sessions',
    frame,
    `<div class="card">
<h1>Your sessions</h1>
<p>This demo keeps sessions in a store without a subject index (an index of sessions by user),
so it cannot find your other sessions: listing and revoking them needs a store with a subject
index. Run the demo with <code>SESSION_STORE=sqlite</code> (or <code>memory</code>,
<code>redis</code>, <code>postgres</code>) to try it.</p>
<p>This session was created ${when(createdAt)}.</p>
</div>`,
  )
}

/** An error page. */
export function errorPage(frame: Frame, title: string, message: string): string {
  return layout(
    title,
    frame,
    `<div class="card"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>
<p><a href="/">Back home</a></p></div>`,
  )
}
