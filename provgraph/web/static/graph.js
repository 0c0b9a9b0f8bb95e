/* Interactive provenance graph: an SVG force layout, no third-party code.
   ProvGraph(svg, api, onSelect): load(pk) draws the neighbourhood of a node; clicking a node
   expands it (its neighbours are fetched and merged) and selects it. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const STATE_COLOURS = { finished: "#5fbf74", failed: "#e5736b", excepted: "#e5736b", killed: "#a3a7b3",
    running: "#f2c14e", waiting: "#f2c14e", created: "#9db4ff" };

  function kindOf(node) {
    const t = node.node_type || "";
    if (t.startsWith("process.workflow")) return "workflow";
    if (t.startsWith("process")) return "calculation";
    return "data";
  }
  function fillOf(node) {
    const kind = kindOf(node);
    if (kind === "data") {
      const t = node.node_type || "";
      if (t.includes("code")) return "#d7c6f5";
      if (t.includes("remote") || t.includes("folder") || t.includes("singlefile")) return "#f5dcc6";
      return "#cfe3fb";
    }
    let state = node.process_state || "created";
    if (state === "finished" && node.exit_status && node.exit_status !== 0) state = "failed";
    return STATE_COLOURS[state] || "#dddddd";
  }
  function shortName(node) {
    if (node.process_label) return node.process_label;
    const parts = (node.node_type || "node").split(".");
    return parts[parts.length - 1] || "node";
  }
  function el(name, attrs) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  class ProvGraph {
    constructor(svg, api, onSelect) {
      this.svg = svg; this.api = api; this.onSelect = onSelect;
      this.nodes = new Map(); this.links = new Map(); this.expanded = new Set();
      this.view = { x: 0, y: 0, k: 1 };
      this.root = el("g", {}); svg.appendChild(this.root);
      this.linkLayer = el("g", {}); this.nodeLayer = el("g", {});
      this.root.appendChild(this.linkLayer); this.root.appendChild(this.nodeLayer);
      this._panZoom();
    }
    async load(pk) {
      this.centre = pk;
      await this.expand(pk);
    }
    async expand(pk) {
      const data = await this.api(`/nodes/${pk}/graph?depth=1&max_nodes=200`);
      const anchor = this.nodes.get(pk) || { x: 0, y: 0 };
      for (const n of data.nodes) {
        if (!this.nodes.has(n.pk)) {
          const a = Math.random() * 2 * Math.PI;
          this.nodes.set(n.pk, Object.assign({}, n, { x: anchor.x + 90 * Math.cos(a), y: anchor.y + 90 * Math.sin(a),
            vx: 0, vy: 0 }));
        }
      }
      for (const l of data.links) {
        this.links.set(`${l.source}-${l.target}-${l.link_type}-${l.link_label}`, l);
      }
      this.expanded.add(pk);
      this.layout(300);
      this.fit();
      this.render();
      this.svg.setAttribute("data-node-count", String(this.nodes.size));
      this.svg.setAttribute("data-link-count", String(this.links.size));
    }
    layout(iterations) {
      const nodes = [...this.nodes.values()];
      const links = [...this.links.values()];
      const centre = this.nodes.get(this.centre);
      for (let it = 0; it < iterations; it++) {
        const cool = 1 - it / iterations;
        for (let i = 0; i < nodes.length; i++) {
          const a = nodes[i];
          for (let j = i + 1; j < nodes.length; j++) {
            const b = nodes[j];
            let dx = a.x - b.x, dy = a.y - b.y, d2 = dx * dx + dy * dy;
            if (d2 < 1) { dx = Math.random() - 0.5; dy = Math.random() - 0.5; d2 = 1; }
            if (d2 > 250000) continue;
            const f = 1400 / d2;
            a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
          }
          a.vx -= a.x * 0.004; a.vy -= a.y * 0.004;
        }
        for (const l of links) {
          const s = this.nodes.get(l.source), t = this.nodes.get(l.target);
          if (!s || !t) continue;
          const dx = t.x - s.x, dy = t.y - s.y, d = Math.sqrt(dx * dx + dy * dy) || 1;
          const f = (d - 90) * 0.05 / d;
          s.vx += dx * f; s.vy += dy * f; t.vx -= dx * f; t.vy -= dy * f;
          s.vx -= 0.6; t.vx += 0.6;  /* provenance flows left to right */
        }
        for (const n of nodes) {
          if (n === centre) { n.vx = n.vy = 0; continue; }
          const max = 30 * cool + 1;
          n.x += Math.max(-max, Math.min(max, n.vx * 0.5));
          n.y += Math.max(-max, Math.min(max, n.vy * 0.5));
          n.vx *= 0.5; n.vy *= 0.5;
        }
      }
      if (centre) { centre.x = 0; centre.y = 0; }
    }
    render() {
      this.linkLayer.textContent = ""; this.nodeLayer.textContent = "";
      const defs = el("defs", {});
      const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "22", refY: "5", markerWidth: "7",
        markerHeight: "7", orient: "auto-start-reverse" });
      marker.appendChild(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#7a839a" }));
      defs.appendChild(marker); this.linkLayer.appendChild(defs);
      for (const l of this.links.values()) {
        const s = this.nodes.get(l.source), t = this.nodes.get(l.target);
        if (!s || !t) continue;
        const line = el("line", { x1: s.x, y1: s.y, x2: t.x, y2: t.y, class: `glink ${l.link_type}`,
          "marker-end": "url(#arrow)" });
        this.linkLayer.appendChild(line);
        const label = el("text", { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 - 3, class: "glabel", "text-anchor": "middle" });
        label.textContent = l.link_label;
        this.linkLayer.appendChild(label);
      }
      for (const n of this.nodes.values()) {
        const kind = kindOf(n);
        const g = el("g", { class: `gnode ${kind}` + (this.expanded.has(n.pk) ? " expanded" : "") +
          (n.pk === this.centre ? " centre" : ""), transform: `translate(${n.x},${n.y})`, "data-pk": n.pk,
          "data-kind": kind });
        const shape = kind === "data" ? el("ellipse", { rx: 22, ry: 14, class: "shape", fill: fillOf(n) })
          : el("rect", { x: -26, y: -14, width: 52, height: 28, rx: kind === "workflow" ? 10 : 0, class: "shape",
            fill: fillOf(n) });
        const title = el("title", {});
        title.textContent = `${shortName(n)} <${n.pk}> ${n.node_type}` + (n.process_state ? ` [${n.process_state}]` : "");
        g.appendChild(title); g.appendChild(shape);
        const text = el("text", { y: 4, "text-anchor": "middle" }); text.textContent = String(n.pk);
        const name = el("text", { y: 27, "text-anchor": "middle" }); name.textContent = shortName(n);
        g.appendChild(text); g.appendChild(name);
        g.addEventListener("click", (ev) => {
          ev.stopPropagation();
          this.onSelect(n);
          if (!this.expanded.has(n.pk)) this.expand(n.pk);
        });
        this.nodeLayer.appendChild(g);
      }
      this._applyView();
    }
    fit() {
      const nodes = [...this.nodes.values()];
      if (!nodes.length) return;
      const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
      const minX = Math.min(...xs) - 60, maxX = Math.max(...xs) + 60;
      const minY = Math.min(...ys) - 40, maxY = Math.max(...ys) + 40;
      const r = this.svg.getBoundingClientRect();
      const k = Math.min(1.3, (r.width || 600) / (maxX - minX), (r.height || 500) / (maxY - minY));
      this.view = { k: k, x: -((minX + maxX) / 2) * k, y: -((minY + maxY) / 2) * k };
    }
    _applyView() {
      const r = this.svg.getBoundingClientRect();
      const cx = r.width / 2 + this.view.x, cy = r.height / 2 + this.view.y;
      this.root.setAttribute("transform", `translate(${cx},${cy}) scale(${this.view.k})`);
    }
    _panZoom() {
      let drag = null;
      this.svg.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY }; });
      window.addEventListener("mouseup", () => { drag = null; });
      window.addEventListener("mousemove", (e) => {
        if (!drag) return;
        this.view.x += e.clientX - drag.x; this.view.y += e.clientY - drag.y;
        drag = { x: e.clientX, y: e.clientY }; this._applyView();
      });
      this.svg.addEventListener("wheel", (e) => {
        e.preventDefault();
        this.view.k = Math.max(0.2, Math.min(4, this.view.k * (e.deltaY < 0 ? 1.1 : 0.9)));
        this._applyView();
      }, { passive: false });
    }
  }
  window.ProvGraph = ProvGraph;
  window.provgraphKindOf = kindOf;
})();
