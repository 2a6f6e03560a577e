/**
 * <activity-log>: an embeddable viewer of one tenant's activity trail (Activity Tracker API v1).
 *
 *   <script type="module" src="https://API/viewer/activity-log.js"></script>
 *   <activity-log api-base="https://API" token="VIEWER_TOKEN"></activity-log>
 *
 * Framework-free, no dependencies, Shadow DOM. It fetches nothing but `api-base` (GET /v1/events,
 * GET /v1/events/{id}, GET /v1/stats) with the viewer token as a bearer token. Event data is
 * attacker-controlled: it only ever reaches the page as text (textContent, text nodes, attributes
 * set by name), never as markup. Docs: docs/viewer.md.
 *
 * Attributes / properties:
 *   api-base / apiBase   the API's base URL (the stack's ApiUrl output)
 *   token / token        a viewer token (POST /v1/viewer-sessions); set the property to refresh it
 *   user-id / userId     the user whose events to show; a token bound to one user implies it
 *   page-size            events per page, 1..1000 (default 25)
 * Events: `activity-log-unauthorized` (bubbles, composed) when the API answers 401: mint a new
 *   viewer token and set `element.token`; the view reloads with it.
 */

const STYLE = `
:host {
  display: block;
  font: var(--activity-log-font, 14px/1.4 system-ui, sans-serif);
  color: var(--activity-log-fg, #1f2328);
  background: var(--activity-log-bg, #fff);
  border: 1px solid var(--activity-log-border, #d0d7de);
  border-radius: var(--activity-log-radius, 6px);
  padding: var(--activity-log-gap, 12px);
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
h2, h3 { font-size: 1.05em; margin: 0 0 8px; }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: var(--activity-log-gap, 12px); }
label { display: flex; flex-direction: column; gap: 2px; font-size: .85em; color: var(--activity-log-muted, #59636e); }
input, button {
  font: inherit; color: inherit; background: var(--activity-log-bg, #fff);
  border: 1px solid var(--activity-log-border, #d0d7de); border-radius: var(--activity-log-radius, 6px); padding: 4px 8px;
}
button { cursor: pointer; }
button.primary { background: var(--activity-log-accent, #0969da); color: var(--activity-log-accent-fg, #fff); border-color: transparent; }
button:disabled { opacity: .5; cursor: default; }
:focus-visible { outline: 2px solid var(--activity-log-focus, #0969da); outline-offset: 2px; }
.layout { display: grid; gap: var(--activity-log-gap, 12px); grid-template-columns: minmax(0, 3fr) minmax(200px, 1fr); }
@media (max-width: 720px) { .layout { grid-template-columns: 1fr; } }
table { width: 100%; border-collapse: collapse; }
caption { text-align: start; font-weight: 600; padding-bottom: 4px; }
th, td { text-align: start; padding: 4px 6px; border-bottom: 1px solid var(--activity-log-border, #d0d7de); vertical-align: top; overflow-wrap: break-word; }
td time { white-space: nowrap; }
th { font-size: .85em; color: var(--activity-log-muted, #59636e); font-weight: 600; }
tr[aria-current="true"] { background: var(--activity-log-selected, #ddf4ff); }
td button { border: 0; padding: 0; background: none; color: var(--activity-log-accent, #0969da); text-decoration: underline; text-align: start; }
.pager { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
.status { min-height: 1.4em; color: var(--activity-log-muted, #59636e); margin: 4px 0; }
.error { color: var(--activity-log-error, #cf222e); margin: 4px 0; }
.error:empty { display: none; }
.details { margin-top: var(--activity-log-gap, 12px); border-top: 1px solid var(--activity-log-border, #d0d7de); padding-top: 8px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px; }
dt { color: var(--activity-log-muted, #59636e); }
dd { margin: 0; overflow-wrap: anywhere; }
pre { margin: 0; padding: 8px; overflow: auto; background: var(--activity-log-code-bg, #f6f8fa); border-radius: var(--activity-log-radius, 6px); }
.top { list-style: none; padding: 0; margin: 0 0 12px; }
.top li { display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; margin-bottom: 6px; overflow-wrap: anywhere; }
.meter { grid-column: 1 / -1; height: 6px; background: var(--activity-log-code-bg, #f6f8fa); border-radius: 3px; }
.meter > span, .hist > span { display: block; background: var(--activity-log-bar, #54aeff); border-radius: 2px; }
.meter > span { height: 100%; }
.hist { display: flex; align-items: flex-end; gap: 1px; height: 80px; border-bottom: 1px solid var(--activity-log-border, #d0d7de); }
.hist > span { flex: 1; min-height: 1px; }
.range { display: flex; justify-content: space-between; font-size: .8em; color: var(--activity-log-muted, #59636e); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const DAY_MS = 86_400_000;
/** The stats route's longest span with `interval=day` (docs/api.md). */
const MAX_STATS_DAYS = 400;
const DEFAULT_STATS_DAYS = 30;

/**
 * Creates an element: `attrs` are set by name (never parsed as markup), children are nodes or text.
 * @param {string} tag
 * @param {Record<string, string | boolean | ((e: Event) => void)>} [attrs]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElement}
 */
const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) if (child != null) el.append(child);
  return el;
};

/**
 * The `usr` claim of a viewer token (the user it is bound to), read without verifying anything:
 * only to fill the user filter the API requires; the API decides what the token may read.
 * @param {string} token
 * @returns {string | undefined}
 */
const boundUser = (token) => {
  try {
    const part = token.split('.')[1] ?? '';
    const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const usr = JSON.parse(new TextDecoder().decode(bytes)).usr;
    return typeof usr === 'string' ? usr : undefined;
  } catch {
    return undefined;
  }
};

/** @param {string | undefined} iso */
const formatTime = (iso) => {
  const d = new Date(iso ?? '');
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
};

/** `datetime-local` value (the browser's time zone) → RFC 3339 UTC, or undefined. @param {string} value */
const toIso = (value) => {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

/** Midnight UTC at or before `ms`. @param {number} ms */
const floorDay = (ms) => Math.floor(ms / DAY_MS) * DAY_MS;

/** @param {number} ms */
const dayIso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class ActivityLogElement extends HTMLElement {
  static get observedAttributes() {
    return ['api-base', 'token', 'user-id', 'page-size'];
  }

  constructor() {
    super();
    /** @type {string} */
    this._token = '';
    /** Cursors of the pages seen: `_cursors[i]` opens page i (undefined: the first). @type {(string | undefined)[]} */
    this._cursors = [undefined];
    this._page = 0;
    /** @type {string | null | undefined} */
    this._next = undefined;
    /** @type {Record<string, AbortController>} */
    this._inflight = {};
    /** @type {string | undefined} */
    this._selected = undefined;
    /** The token a 401 was last reported for. @type {string | undefined} */
    this._refused = undefined;
    this._connected = false;
    this._build();
  }

  /** The viewer token; setting it reloads the view (after an `activity-log-unauthorized`, say). */
  get token() {
    return this._token;
  }

  set token(value) {
    this._token = String(value ?? '');
    this._syncUser();
    if (this._connected) this._reload();
  }

  get apiBase() {
    return this.getAttribute('api-base') ?? '';
  }

  set apiBase(value) {
    this.setAttribute('api-base', String(value));
  }

  get userId() {
    return this.getAttribute('user-id') ?? boundUser(this._token) ?? '';
  }

  set userId(value) {
    this.setAttribute('user-id', String(value));
  }

  get pageSize() {
    const n = Number(this.getAttribute('page-size') ?? 25);
    return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : 25;
  }

  connectedCallback() {
    // A host may set properties before this module defined the element: they are own properties
    // then, shadowing the accessors; pass them through the accessors instead.
    for (const name of ['token', 'apiBase', 'userId']) {
      if (Object.hasOwn(this, name)) {
        const value = /** @type {any} */ (this)[name];
        delete (/** @type {any} */ (this)[name]);
        /** @type {any} */ (this)[name] = value;
      }
    }
    this._connected = true;
    if (this.hasAttribute('token') && !this._token) this._token = this.getAttribute('token') ?? '';
    this._syncUser();
    this._reload();
  }

  disconnectedCallback() {
    this._connected = false;
    for (const c of Object.values(this._inflight)) c.abort();
  }

  /** @param {string} name @param {string | null} _old @param {string | null} value */
  attributeChangedCallback(name, _old, value) {
    if (name === 'token') {
      this.token = value ?? '';
      return;
    }
    if (name === 'user-id') this._syncUser();
    if (this._connected) this._reload();
  }

  _build() {
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    const id = (/** @type {string} */ s) => `al-${s}`;
    /** @param {string} name @param {string} label @param {string} type @param {string} [hint] */
    const field = (name, label, type, hint) => {
      const input = /** @type {HTMLInputElement} */ (h('input', { id: id(name), name, type, autocomplete: 'off', part: 'input' }));
      if (hint) input.placeholder = hint;
      return [h('label', { for: id(name) }, label, input), input];
    };
    const [userLabel, user] = field('userId', 'User', 'text', 'any user');
    const [typeLabel, type] = field('type', 'Type', 'text', 'any type');
    const [fromLabel, from] = field('from', 'From', 'datetime-local');
    const [toLabel, to] = field('to', 'To (exclusive)', 'datetime-local');
    this._inputs = {
      user: /** @type {HTMLInputElement} */ (user),
      type: /** @type {HTMLInputElement} */ (type),
      from: /** @type {HTMLInputElement} */ (from),
      to: /** @type {HTMLInputElement} */ (to),
    };
    const form = h(
      'form',
      {
        role: 'search',
        'aria-label': 'Filter events',
        part: 'filters',
        onsubmit: (/** @type {Event} */ e) => {
          e.preventDefault();
          this._reload();
        },
      },
      userLabel,
      typeLabel,
      fromLabel,
      toLabel,
      h('button', { type: 'submit', class: 'primary', part: 'button' }, 'Apply filters'),
      h(
        'button',
        {
          type: 'button',
          part: 'button',
          onclick: () => {
            for (const input of Object.values(this._inputs)) if (!input.readOnly) input.value = '';
            this._reload();
          },
        },
        'Clear',
      ),
    );

    this._status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', part: 'status' });
    this._error = h('p', { class: 'error', role: 'alert', part: 'error' });
    this._rows = h('tbody');
    this._table = h(
      'table',
      { part: 'table' },
      h('caption', {}, 'Events, newest first'),
      h('thead', {}, h('tr', {}, ...['Time', 'Type', 'User', 'Target'].map((t) => h('th', { scope: 'col' }, t)))),
      this._rows,
    );
    this._prev = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'button', part: 'button', disabled: true, onclick: () => this._goto(this._page - 1) }, 'Previous page')
    );
    this._nextButton = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'button', part: 'button', disabled: true, onclick: () => this._goto(this._page + 1) }, 'Next page')
    );
    this._pageLabel = h('span', { 'aria-live': 'polite' });
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, this._prev, this._pageLabel, this._nextButton);

    this._detailsHeading = h('h3', { id: id('details-title'), tabindex: '-1' }, 'Event details');
    this._detailsBody = h('div');
    this._details = h(
      'section',
      { class: 'details', 'aria-labelledby': id('details-title'), hidden: true, part: 'details' },
      this._detailsHeading,
      this._detailsBody,
      h('button', { type: 'button', part: 'button', onclick: () => this._closeDetails() }, 'Close details'),
    );

    this._statsBody = h('div', { 'aria-live': 'polite' });
    const stats = h(
      'section',
      { 'aria-labelledby': id('stats-title'), part: 'stats' },
      h('h3', { id: id('stats-title') }, 'Stats'),
      this._statsBody,
    );

    const list = h(
      'section',
      { 'aria-labelledby': id('list-title') },
      h('h2', { id: id('list-title') }, 'Activity'),
      form,
      this._status,
      this._error,
      this._table,
      pager,
      this._details,
    );
    root.append(style, h('div', { class: 'layout' }, list, stats));
  }

  /** A token bound to one user fixes the user filter (the API requires it). */
  _syncUser() {
    if (!this._inputs) return;
    const fixed = this.getAttribute('user-id') ?? boundUser(this._token);
    this._inputs.user.readOnly = fixed !== undefined && fixed !== null;
    if (fixed) this._inputs.user.value = fixed;
  }

  /** The filters as query parameters. */
  _filters() {
    const p = new URLSearchParams();
    const user = this._inputs.user.value.trim();
    const type = this._inputs.type.value.trim();
    const from = toIso(this._inputs.from.value);
    const to = toIso(this._inputs.to.value);
    if (user) p.set('userId', user);
    if (type) p.set('type', type);
    if (from) p.set('from', from);
    if (to) p.set('to', to);
    return p;
  }

  /**
   * GET `path` from the API base, and from nowhere else. A 401 tells the host to refresh the token.
   * @param {string} kind one request of each kind at a time (a newer one aborts the older)
   * @param {string} path
   * @returns {Promise<any>}
   */
  async _get(kind, path) {
    const base = new URL(this.apiBase, document.baseURI);
    const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
    if (url.origin !== base.origin) throw new ApiError(0, 'refusing a request outside the API base');
    this._inflight[kind]?.abort();
    const controller = new AbortController();
    this._inflight[kind] = controller;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${this._token}`, accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      signal: controller.signal,
    });
    const body = await res.json().catch(() => ({}));
    // Once per token: the list and the stats may both be refused.
    if (res.status === 401 && this._refused !== this._token) {
      this._refused = this._token;
      this.dispatchEvent(new CustomEvent('activity-log-unauthorized', { bubbles: true, composed: true, detail: { status: 401 } }));
    }
    if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? `HTTP ${res.status}`);
    return body;
  }

  _reload() {
    this._cursors = [undefined];
    this._closeDetails(false);
    this._goto(0);
    this._loadStats();
  }

  /** @param {unknown} e */
  _showError(e) {
    if (e instanceof DOMException && e.name === 'AbortError') return true;
    const status = e instanceof ApiError && e.status ? ` (${e.status})` : '';
    this._error.textContent = `Could not load: ${e instanceof Error ? e.message : String(e)}${status}`;
    return false;
  }

  /** @param {number} page */
  async _goto(page) {
    if (page < 0 || page >= this._cursors.length) return;
    if (!this.apiBase || !this._token) {
      this._status.textContent = 'Waiting for an API base URL and a viewer token.';
      return;
    }
    const params = this._filters();
    params.set('limit', String(this.pageSize));
    const cursor = this._cursors[page];
    if (cursor) params.set('cursor', cursor);
    this._table.setAttribute('aria-busy', 'true');
    this._status.textContent = 'Loading events…';
    this._error.textContent = '';
    this._prev.disabled = this._nextButton.disabled = true;
    try {
      const body = await this._get('events', `/v1/events?${params}`);
      this._page = page;
      this._next = body.nextCursor;
      this._cursors = this._cursors.slice(0, page + 1);
      if (body.nextCursor) this._cursors.push(body.nextCursor);
      this._renderRows(Array.isArray(body.events) ? body.events : []);
      this._status.textContent = `${body.events?.length ?? 0} event(s) on page ${page + 1}.`;
    } catch (e) {
      if (this._showError(e)) return;
      this._status.textContent = '';
    } finally {
      this._table.removeAttribute('aria-busy');
      this._prev.disabled = this._page === 0;
      this._nextButton.disabled = !this._next;
      this._pageLabel.textContent = `Page ${this._page + 1}`;
    }
  }

  /** @param {any[]} events */
  _renderRows(events) {
    const rows = events.map((event) => {
      const open = h('button', { type: 'button', onclick: () => this._openDetails(String(event.id)) }, String(event.type ?? ''));
      open.setAttribute('aria-label', `Details of ${String(event.type ?? '')} at ${formatTime(event.occurredAt)}`);
      const target = event.target ? `${event.target.type ?? ''} ${event.target.id ?? ''}` : '—';
      const time = h('time', { datetime: String(event.occurredAt ?? '') }, formatTime(event.occurredAt));
      const row = h(
        'tr',
        { 'data-id': String(event.id) },
        h('td', {}, time),
        h('td', {}, open),
        h('td', {}, String(event.userId ?? '')),
        h('td', {}, target),
      );
      if (event.id === this._selected) row.setAttribute('aria-current', 'true');
      return row;
    });
    if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: '4' }, 'No events match these filters.')));
    this._rows.replaceChildren(...rows);
  }

  /** @param {string} id */
  async _openDetails(id) {
    this._selected = id;
    for (const row of this._rows.querySelectorAll('tr')) {
      if (row.dataset.id === id) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    }
    this._details.hidden = false;
    this._detailsBody.replaceChildren(h('p', { class: 'status' }, 'Loading…'));
    this._detailsHeading.focus();
    try {
      const event = await this._get('details', `/v1/events/${encodeURIComponent(id)}`);
      /** @type {[string, unknown][]} */
      const fields = [
        ['Id', event.id],
        ['Type', event.type],
        ['User', event.userId],
        ['Occurred', formatTime(event.occurredAt)],
        ['Received', formatTime(event.receivedAt)],
        ['Target', event.target ? `${event.target.type} ${event.target.id}` : '—'],
        ['Source IP', event.source?.ip ?? '—'],
        ['User agent', event.source?.userAgent ?? '—'],
      ];
      const dl = h('dl', {}, ...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v ?? '—'))]));
      const details = h('pre', { tabindex: '0', 'aria-label': 'Details (JSON)' }, JSON.stringify(event.details ?? {}, null, 2));
      this._detailsBody.replaceChildren(dl, details);
    } catch (e) {
      if (!this._showError(e)) this._detailsBody.replaceChildren(h('p', { class: 'error' }, 'Could not load this event.'));
    }
  }

  _closeDetails(focus = true) {
    if (!this._details) return;
    const was = this._selected;
    this._details.hidden = true;
    this._selected = undefined;
    for (const row of this._rows.querySelectorAll('tr[aria-current]')) row.removeAttribute('aria-current');
    if (focus && was) /** @type {HTMLElement | null} */ (this._rows.querySelector(`tr[data-id="${CSS.escape(was)}"] button`))?.focus();
  }

  /** Stats over the filter's range rounded out to whole UTC days (default: the last 30), by day. */
  async _loadStats() {
    if (!this.apiBase || !this._token) return;
    const filters = this._filters();
    const end = filters.get('to') ? Math.ceil(Date.parse(filters.get('to') ?? '') / DAY_MS) * DAY_MS : floorDay(Date.now()) + DAY_MS;
    let start = filters.get('from') ? floorDay(Date.parse(filters.get('from') ?? '')) : end - DEFAULT_STATS_DAYS * DAY_MS;
    if (end - start > MAX_STATS_DAYS * DAY_MS) start = end - MAX_STATS_DAYS * DAY_MS;
    if (start >= end) start = end - DAY_MS;
    const params = new URLSearchParams({ from: dayIso(start), to: dayIso(end), interval: 'day', groupBy: 'type', limit: '5' });
    for (const key of ['userId', 'type']) {
      const v = filters.get(key);
      if (v) params.set(key, v);
    }
    this._statsBody.setAttribute('aria-busy', 'true');
    try {
      const stats = await this._get('stats', `/v1/stats?${params}`);
      this._renderStats(stats);
    } catch (e) {
      if (!this._showError(e)) this._statsBody.replaceChildren(h('p', { class: 'error' }, 'Stats unavailable.'));
    } finally {
      this._statsBody.removeAttribute('aria-busy');
    }
  }

  /** @param {any} stats */
  _renderStats(stats) {
    const groups = Array.isArray(stats.groups) ? stats.groups : [];
    const buckets = Array.isArray(stats.buckets) ? stats.buckets : [];
    const top = Math.max(1, ...groups.map((/** @type {any} */ g) => Number(g.count) || 0));
    const list = h(
      'ol',
      { class: 'top', 'aria-label': 'Top event types' },
      ...groups.map((/** @type {any} */ g) => {
        const bar = h('span');
        bar.style.width = `${Math.round(((Number(g.count) || 0) / top) * 100)}%`;
        return h(
          'li',
          {},
          h('span', {}, String(g.key)),
          h('span', {}, String(g.count)),
          h('span', { class: 'meter', 'aria-hidden': 'true' }, bar),
        );
      }),
    );
    const busiest = Math.max(0, ...buckets.map((/** @type {any} */ b) => Number(b.count) || 0));
    const peak = Math.max(1, busiest);
    const days = `${buckets.length} day(s) from ${String(stats.from ?? '').slice(0, 10)} to ${String(stats.to ?? '').slice(0, 10)}`;
    const hist = h('div', { class: 'hist', role: 'img', 'aria-label': `Events per day over ${days}; the busiest day has ${busiest}` });
    for (const b of buckets) {
      const bar = h('span', { title: `${String(b.start).slice(0, 10)}: ${Number(b.count) || 0}` });
      bar.style.height = `${Math.round(((Number(b.count) || 0) / peak) * 100)}%`;
      hist.append(bar);
    }
    this._statsBody.replaceChildren(
      h('p', {}, h('strong', { 'data-total': '' }, String(stats.total ?? 0)), ' events'),
      h('h4', { class: 'sr-only' }, 'Top types'),
      groups.length ? list : h('p', { class: 'status' }, 'No events in this range.'),
      hist,
      h('div', { class: 'range', 'aria-hidden': 'true' }, h('span', {}, String(stats.from ?? '').slice(0, 10)), h('span', {}, 'per day')),
    );
  }
}

if (!customElements.get('activity-log')) customElements.define('activity-log', ActivityLogElement);
