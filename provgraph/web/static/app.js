/* The provgraph explorer: a single page reading the JSON API under /api/v1 (hash routes). */
(function () {
  "use strict";
  const API = "/api/v1";
  const view = document.getElementById("view");
  let refreshTimer = null;

  async function api(path) {
    const response = await fetch(API + path, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = body.error ? `${body.error.type}: ${body.error.message}` : response.statusText;
      throw new Error(message);
    }
    return body;
  }
  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function when(text) { return text ? esc(text.replace("T", " ").slice(0, 19)) : ""; }
  function isProcess(node) { return (node.node_type || "").startsWith("process"); }
  function stateBadge(node) {
    if (!node.process_state) return "";
    let state = node.process_state;
    if (state === "finished" && node.exit_status) state = "failed";
    const exit = node.exit_status !== null && node.exit_status !== undefined ? ` [${node.exit_status}]` : "";
    return `<span class="badge state-${esc(state)}">${esc(node.process_state)}${esc(exit)}</span>`;
  }
  function nodeLink(node) {
    const name = node.process_label || (node.node_type || "").split(".").pop();
    const target = isProcess(node) ? "process" : "node";
    return `<a class="node-link" data-pk="${node.pk}" href="#/${target}/${node.pk}">${esc(name)} &lt;${node.pk}&gt;</a>`;
  }
  function nodeRows(items) {
    if (!items.length) return `<p class="muted">none</p>`;
    return `<table class="nodes"><tr><th>node</th><th>type</th><th>label</th><th>state</th><th>created</th></tr>` +
      items.map((n) => `<tr data-pk="${n.pk}"><td>${nodeLink(n)}</td><td>${esc(n.node_type)}</td>` +
        `<td>${esc(n.label)}</td><td>${stateBadge(n)}</td><td>${when(n.ctime)}</td></tr>`).join("") + `</table>`;
  }
  function pager(data, go) {
    const last = data.offset + data.items.length;
    const div = document.createElement("div");
    div.className = "pager";
    div.innerHTML = `<span class="muted">${data.total ? data.offset + 1 : 0}–${last} of ${data.total}</span>`;
    if (data.offset > 0) div.appendChild(button("previous", () => go(Math.max(0, data.offset - data.limit))));
    if (last < data.total) div.appendChild(button("next", () => go(data.offset + data.limit)));
    return div;
  }
  function button(text, onClick, secondary) {
    const b = document.createElement("button");
    b.textContent = text; b.type = "button";
    if (secondary !== false) b.className = "secondary";
    b.addEventListener("click", onClick);
    return b;
  }
  function fail(error) { view.innerHTML = `<p class="error" id="error">${esc(error.message)}</p>`; }

  async function pagedList(container, path, render) {
    async function go(offset) {
      const sep = path.includes("?") ? "&" : "?";
      const data = await api(`${path}${sep}limit=25&offset=${offset}`);
      container.innerHTML = render(data.items);
      container.appendChild(pager(data, go));
    }
    await go(0);
  }

  // -- pages -------------------------------------------------------------------------------
  async function searchPage(query) {
    view.innerHTML = `<h2>Search nodes</h2>
      <form id="search-form"><input id="search-input" placeholder="pk, uuid prefix, label or type (e.g. Int, add)"
        value="${esc(query)}"><button id="search-button" type="submit">Search</button></form>
      <div id="search-results"><p class="muted">Search by pk, uuid prefix, label, type or process name;
        <a href="#/latest">latest nodes</a> · <a href="#/statistics">statistics</a></p></div>`;
    document.getElementById("search-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      location.hash = "#/search/" + encodeURIComponent(document.getElementById("search-input").value.trim());
    });
    const results = document.getElementById("search-results");
    if (query) await pagedList(results, `/search?q=${encodeURIComponent(query)}`, nodeRows);
  }

  async function latestPage() {
    view.innerHTML = `<h2>Latest nodes</h2><div id="latest"></div>`;
    await pagedList(document.getElementById("latest"), "/nodes?order=-pk", nodeRows);
  }

  async function statisticsPage() {
    view.innerHTML = `<h2>Statistics</h2><div id="statistics" class="muted">counting…</div>`;
    const stats = await api("/statistics");
    const types = Object.entries(stats.types).map(([t, c]) => `<tr><td>${esc(t)}</td><td>${c}</td></tr>`).join("");
    const months = Object.entries(stats.months).map(([m, c]) => `<tr><td>${esc(m)}</td><td>${c}</td></tr>`).join("");
    document.getElementById("statistics").className = "cols";
    document.getElementById("statistics").innerHTML =
      `<table class="stats"><tr><th>node type</th><th>count (total ${stats.total})</th></tr>${types}</table>` +
      `<table class="stats"><tr><th>month</th><th>nodes created</th></tr>${months}</table>`;
  }

  function fieldsTable(node) {
    const rows = [["pk", node.pk], ["uuid", node.uuid], ["type", node.node_type], ["label", node.label],
      ["description", node.description], ["created", when(node.ctime)], ["modified", when(node.mtime)],
      ["user", node.user]];
    return `<table class="kv">${rows.map(([k, v]) => `<tr><td>${k}</td><td>${k === "created" || k === "modified"
      ? v : esc(v)}</td></tr>`).join("")}</table>`;
  }

  function linkTable(items) {
    if (!items.length) return `<p class="muted">none</p>`;
    return `<table><tr><th>link</th><th>label</th><th>node</th><th>state</th></tr>` + items.map((l) =>
      `<tr><td>${esc(l.link_type)}</td><td>${esc(l.link_label)}</td><td>${nodeLink(l.node)}</td>` +
      `<td>${stateBadge(l.node)}</td></tr>`).join("") + `</table>`;
  }

  async function nodePage(pk) {
    const node = await api(`/nodes/${pk}`);
    const processLink = isProcess(node) ? ` · <a id="open-process" href="#/process/${node.pk}">process page</a>` : "";
    view.innerHTML = `<h2 id="node-title">${esc(node.class)} &lt;${node.pk}&gt; ${stateBadge(node)}</h2>
      <p><a href="${API}/nodes/${node.pk}/archive">download archive of its provenance</a>${processLink}</p>
      <div class="cols"><div>${fieldsTable(node)}
        <h3>Attributes</h3><pre id="attributes">${esc(JSON.stringify(node.attributes, null, 2))}</pre>
        <h3>Extras</h3><pre id="extras">${esc(JSON.stringify(node.extras, null, 2))}</pre>
        <h3>Files</h3><div id="files"></div><pre id="file-preview" hidden></pre></div>
      <div><h3>Provenance graph</h3>
        <div id="graph-legend"><span>ellipse: data</span><span>box: calculation</span><span>rounded: workflow</span>
          <span>click a node: expand it</span></div>
        <div id="graph-wrap"><svg id="graph"></svg></div><div id="graph-selection" class="muted">
          click a node to expand its neighbours</div></div></div>
      <div class="cols"><div><h3>Incoming links (inputs)</h3><div id="incoming"></div></div>
        <div><h3>Outgoing links (outputs)</h3><div id="outgoing"></div></div></div>`;
    const files = document.getElementById("files");
    files.innerHTML = node.files.length ? `<ul>${node.files.map((f) => `<li><a href="#" class="file-link"
      data-path="${esc(f)}">${esc(f)}</a> (<a href="${API}/nodes/${node.pk}/download?path=${encodeURIComponent(f)}"
      >download</a>)</li>`).join("")}</ul>` : `<p class="muted">no files</p>`;
    files.querySelectorAll(".file-link").forEach((a) => a.addEventListener("click", async (ev) => {
      ev.preventDefault();
      const response = await fetch(`${API}/nodes/${node.pk}/download?path=${encodeURIComponent(a.dataset.path)}`);
      const text = await response.text();
      const preview = document.getElementById("file-preview");
      preview.hidden = false;
      preview.textContent = text.length > 20000 ? text.slice(0, 20000) + "\n…" : text;
    }));
    const selection = document.getElementById("graph-selection");
    const graph = new window.ProvGraph(document.getElementById("graph"), api, (n) => {
      selection.className = "";
      selection.innerHTML = `selected: ${nodeLink(n)} ${esc(n.node_type)} ${stateBadge(n)} · ` +
        `<a id="selection-node" href="#/node/${n.pk}">node page</a>` +
        (isProcess(n) ? ` · <a id="selection-process" href="#/process/${n.pk}">process page</a>` : "");
    });
    await Promise.all([
      graph.load(node.pk),
      pagedList(document.getElementById("incoming"), `/nodes/${node.pk}/links/incoming`, linkTable),
      pagedList(document.getElementById("outgoing"), `/nodes/${node.pk}/links/outgoing`, linkTable),
    ]);
  }

  function treeHtml(entry) {
    const children = entry.children.length ? `<ul class="tree">${entry.children.map(treeHtml).join("")}</ul>` : "";
    const label = entry.link_label ? `<span class="muted">${esc(entry.link_label)}</span> ` : "";
    return `<li data-pk="${entry.pk}">${label}${nodeLink(entry)} ${stateBadge(entry)}${children}</li>`;
  }

  async function processPage(pk) {
    const render = async () => {
      const p = await api(`/processes/${pk}`);
      const active = ["created", "running", "waiting"].includes(p.process_state);
      const report = p.report.length ? `<table><tr><th>time</th><th>pk</th><th>level</th><th>message</th></tr>` +
        p.report.map((r) => `<tr><td>${when(r.time)}</td><td>${r.pk}</td><td>${esc(r.level)}</td>` +
          `<td>${esc(r.message)}</td></tr>`).join("") + `</table>` : `<p class="muted">no log messages</p>`;
      view.innerHTML = `<h2 id="process-title">${esc(p.process_label)} &lt;${p.pk}&gt;
          <span id="process-state">${stateBadge(p)}</span>
          ${active ? '<span class="live" id="live-indicator">live: refreshing every 2 s</span>' : ""}</h2>
        <p><a id="open-node" href="#/node/${p.pk}">node page and provenance graph</a>
          ${p.caller ? ` · called by ${nodeLink(p.caller)}` : ""}</p>
        <div class="cols"><div><table class="kv">
          <tr><td>state</td><td>${esc(p.process_state)}${p.paused ? " (paused)" : ""}</td></tr>
          <tr><td>exit status</td><td id="exit-status">${esc(p.exit_status)}</td></tr>
          <tr><td>exit message</td><td>${esc(p.exit_message)}</td></tr>
          <tr><td>status</td><td>${esc(p.process_status)}</td></tr>
          <tr><td>type</td><td>${esc(p.process_type)}</td></tr>
          <tr><td>created</td><td>${when(p.ctime)}</td></tr></table>
          ${p.exception ? `<h3>Exception</h3><pre>${esc(p.exception)}</pre>` : ""}</div>
        <div><h3>Call tree</h3><ul class="tree" id="call-tree">${treeHtml(p.call_tree)}</ul></div></div>
        <h3>Report</h3><div id="report">${report}</div>`;
      return active;
    };
    const active = await render();
    if (active) {
      refreshTimer = setInterval(async () => {
        if (!(await render().catch(() => false))) { clearInterval(refreshTimer); refreshTimer = null; }
      }, 2000);
    }
  }

  async function processesPage() {
    view.innerHTML = `<h2>Processes</h2><div id="processes"></div>`;
    await pagedList(document.getElementById("processes"), "/processes", nodeRows);
  }

  async function groupsPage() {
    view.innerHTML = `<h2>Groups</h2><div id="groups"></div>`;
    await pagedList(document.getElementById("groups"), "/groups", (items) => items.length ?
      `<table><tr><th>group</th><th>type</th><th>description</th></tr>` + items.map((g) =>
        `<tr><td><a class="group-link" href="#/group/${g.pk}">${esc(g.label)}</a></td><td>${esc(g.type_string)}</td>` +
        `<td>${esc(g.description)}</td></tr>`).join("") + `</table>` : `<p class="muted">no groups</p>`);
  }

  async function groupPage(pk) {
    const g = await api(`/groups/${pk}`);
    view.innerHTML = `<h2 id="group-title">Group ${esc(g.label)}</h2><table class="kv">
      <tr><td>type</td><td>${esc(g.type_string)}</td></tr><tr><td>description</td><td>${esc(g.description)}</td></tr>
      <tr><td>user</td><td>${esc(g.user)}</td></tr><tr><td>members</td><td>${g.node_count}</td></tr></table>
      <h3>Members</h3><div id="group-nodes"></div>`;
    await pagedList(document.getElementById("group-nodes"), `/groups/${g.pk}/nodes`, nodeRows);
  }

  async function computersPage() {
    view.innerHTML = `<h2>Computers</h2><div id="computers"></div><h3>Codes</h3><div id="codes"></div>`;
    await pagedList(document.getElementById("computers"), "/computers", (items) => items.length ?
      `<table><tr><th>computer</th><th>hostname</th><th>transport</th><th>scheduler</th></tr>` + items.map((c) =>
        `<tr><td><a class="computer-link" href="#/computer/${c.pk}">${esc(c.label)}</a></td><td>${esc(c.hostname)}</td>` +
        `<td>${esc(c.transport_type)}</td><td>${esc(c.scheduler_type)}</td></tr>`).join("") + `</table>`
      : `<p class="muted">no computers</p>`);
    await pagedList(document.getElementById("codes"), "/codes", nodeRows);
  }

  async function computerPage(pk) {
    const c = await api(`/computers/${pk}`);
    view.innerHTML = `<h2 id="computer-title">Computer ${esc(c.label)}</h2><table class="kv">
      <tr><td>hostname</td><td>${esc(c.hostname)}</td></tr><tr><td>transport</td><td>${esc(c.transport_type)}</td></tr>
      <tr><td>scheduler</td><td>${esc(c.scheduler_type)}</td></tr><tr><td>work directory</td><td>${esc(c.workdir)}</td></tr>
      <tr><td>description</td><td>${esc(c.description)}</td></tr><tr><td>nodes</td><td>${c.node_count}</td></tr></table>
      <h3>Nodes on this computer</h3><div id="computer-nodes"></div>`;
    await pagedList(document.getElementById("computer-nodes"), `/computers/${c.pk}/nodes`, nodeRows);
  }

  // -- routing -----------------------------------------------------------------------------
  const ROUTES = [
    [/^#\/search\/(.*)$/, (m) => searchPage(decodeURIComponent(m[1]))],
    [/^#\/node\/([\w-]+)$/, (m) => nodePage(m[1])],
    [/^#\/process\/([\w-]+)$/, (m) => processPage(m[1])],
    [/^#\/processes$/, () => processesPage()],
    [/^#\/latest$/, () => latestPage()],
    [/^#\/statistics$/, () => statisticsPage()],
    [/^#\/groups$/, () => groupsPage()],
    [/^#\/group\/([\w%.-]+)$/, (m) => groupPage(m[1])],
    [/^#\/computers$/, () => computersPage()],
    [/^#\/computer\/([\w%.-]+)$/, (m) => computerPage(m[1])],
  ];
  async function route() {
    if (refreshTimer) { clearInterval(refreshTimer); refreshTimer = null; }
    const hash = location.hash || "#/";
    document.body.setAttribute("data-ready", "false");
    try {
      const found = ROUTES.find(([pattern]) => pattern.test(hash));
      if (found) await found[1](hash.match(found[0]));
      else await searchPage("");
    } catch (error) {
      fail(error);
    }
    document.body.setAttribute("data-ready", "true");
  }
  window.addEventListener("hashchange", route);
  api("/info").then((info) => {
    document.getElementById("server-info").textContent =
      `profile ${info.profile} · ${info.backend} · ${info.read_write ? "read-write" : "read-only"}`;
  }).catch(() => {});
  route();
})();
