"""The inline style and script of ``plan.html`` (:mod:`.plan_page`).

The script reads the page's JSON (``#plan-data``), inflates the deflated uint8 maps
(``DecompressionStream``, no network), and for the chosen vessel paints per map (territory
[-], AUC [µg·h/mL]) three ``<canvas>`` planes: code 0..254 through the map's colour table,
255 (outside the tissue) light grey, the target's outline in the tumour colour; pixels are
scaled by the voxel spacing (mm on screen are equal on both axes). It fills the numbers
(``#numbers``), syncs the select box and the table (``aria-selected``), labels each canvas
for screen readers, and sets ``body[data-chosen]`` to the vessel shown.
"""
from __future__ import annotations

from .palette import PALETTE

PLANE_PIXELS = 230      # the largest plane's longer side on screen [CSS px]

PAGE_STYLE = """
body{font:14px/1.4 sans-serif;margin:16px;color:#1a1a1a}
h1{font-size:20px;margin:0 0 6px}
.top{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.scene{flex:1 1 520px;min-width:420px}
#tree3d{width:100%;height:560px;border:1px solid #ccc}
.bar{height:14px;border:1px solid #999}
.ticks{display:flex;justify-content:space-between;font-size:12px}
.chosen{flex:1 1 560px}
#numbers{display:grid;grid-template-columns:max-content max-content;gap:1px 12px;margin:8px 0}
#numbers dt{color:#555}#numbers dd{margin:0;font-variant-numeric:tabular-nums}
.maprow{margin:6px 0}.maprow h3{font-size:14px;margin:4px 0}
.planes{display:flex;gap:8px;align-items:flex-end}
figure{margin:0}figcaption{font-size:12px;color:#444}
canvas.plane{border:1px solid #bbb;image-rendering:pixelated}
table{border-collapse:collapse;margin-top:16px;font-size:13px}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:right}
tbody tr[tabindex]{cursor:pointer}tbody tr[tabindex]:hover{background:#eef6ff}
tr[aria-selected=true]{background:#cfe8ff}tr.nomaps{color:#999}
.note{color:#a33}
"""

PAGE_SCRIPT = """
(async function () {
  const data = JSON.parse(document.getElementById("plan-data").textContent);
  const OUTSIDE = [209, 209, 209], OUTLINE = __OUTLINE__;
  async function inflate(text) {
    const bytes = Uint8Array.from(atob(text), c => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  const rgb = hex => [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  const luts = Object.fromEntries(Object.entries(data.luts).map(([k, v]) => [k, v.map(rgb)]));
  const maps = await inflate(data.maps), labels = await inflate(data.labels);
  const sizes = data.views.map(v => v.width * v.height);
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const perMap = sizes.reduce((a, b) => a + b, 0);
  const kinds = [
    {key: "territory", title: "Territory: share of each voxel's blood through the vessel",
     unit: "", top: 1},
    {key: "auc", title: "AUC of total tissue concentration", unit: "µg·h/mL", top: data.auc_max}];
  const longest = Math.max(...data.views.map(v => Math.max(v.extent_mm[1] - v.extent_mm[0],
                                                            v.extent_mm[3] - v.extent_mm[2])));
  const scale = __PIXELS__ / longest;
  const holder = document.getElementById("maps"), canvases = [];
  kinds.forEach((kind, k) => {
    const row = document.createElement("div");
    row.className = "maprow";
    row.innerHTML = `<h3>${kind.title}${kind.unit ? " (" + kind.unit + ")" : " (0 to 1)"}</h3>`;
    const planes = document.createElement("div");
    planes.className = "planes";
    canvases.push(data.views.map(view => {
      const figure = document.createElement("figure"), canvas = document.createElement("canvas");
      canvas.className = "plane";
      canvas.dataset.map = kind.key;
      canvas.dataset.view = view.name;
      canvas.setAttribute("role", "img");
      canvas.width = Math.max(1, Math.round((view.extent_mm[1] - view.extent_mm[0]) * scale));
      canvas.height = Math.max(1, Math.round((view.extent_mm[3] - view.extent_mm[2]) * scale));
      const caption = document.createElement("figcaption");
      caption.textContent = `${view.name} (${view.fixed} = ${view.index}): ` +
        `${view.axes[0]} →, ${view.axes[1]} ↑`;
      figure.append(canvas, caption);
      planes.append(figure);
      return canvas;
    }));
    const bar = document.createElement("figure"), strip = document.createElement("canvas");
    strip.width = 24; strip.height = 150;
    strip.setAttribute("role", "img");
    strip.setAttribute("aria-label", `${kind.key} colour bar, 0 to ${kind.top.toPrecision(3)} ${kind.unit}`);
    const context = strip.getContext("2d"), lut = luts[kind.key];
    for (let y = 0; y < strip.height; y++) {
      const c = lut[Math.round((1 - y / (strip.height - 1)) * (lut.length - 1))];
      context.fillStyle = `rgb(${c})`;
      context.fillRect(0, y, strip.width, 1);
    }
    let ticks = `${kind.top.toPrecision(3)}<br>…<br>0 ${kind.unit}`;
    if (kind.key === "auc") {
      const y = Math.round((1 - data.threshold / kind.top) * (strip.height - 1));
      context.fillStyle = "#00d5ff";
      context.fillRect(0, y - 1, strip.width, 3);
      ticks += `<br><span style="color:#0090b0">▬ threshold ${data.threshold.toPrecision(3)}</span>`;
    }
    const text = document.createElement("figcaption");
    text.innerHTML = ticks;
    bar.append(strip, text);
    planes.append(bar);
    row.append(planes);
    holder.append(row);
  });
  function paint(canvas, view, v, offset) {
    const image = new ImageData(view.width, view.height), lut = luts[canvas.dataset.map];
    const labelled = labels.subarray(starts[v], starts[v] + sizes[v]);
    const inTarget = (x, y) => x >= 0 && y >= 0 && x < view.width && y < view.height &&
      labelled[y * view.width + x] === data.target_label;
    for (let y = 0; y < view.height; y++) for (let x = 0; x < view.width; x++) {
      const p = y * view.width + x, code = maps[offset + p];
      let colour = code === 255 ? OUTSIDE : lut[code];
      if (inTarget(x, y) && !(inTarget(x - 1, y) && inTarget(x + 1, y) && inTarget(x, y - 1) &&
                              inTarget(x, y + 1))) colour = OUTLINE;
      image.data.set([colour[0], colour[1], colour[2], 255], 4 * p);
    }
    const native = document.createElement("canvas");
    native.width = view.width; native.height = view.height;
    native.getContext("2d").putImageData(image, 0, 0);
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.drawImage(native, 0, 0, canvas.width, canvas.height);
  }
  const select = document.getElementById("vessel"), numbers = document.getElementById("numbers");
  const rows = [...document.querySelectorAll("#candidates tbody tr")];
  function choose(vessel) {
    const index = data.vessels.indexOf(vessel);
    if (index < 0) return;
    kinds.forEach((kind, k) => data.views.forEach((view, v) => {
      const canvas = canvases[k][v];
      paint(canvas, view, v, (2 * index + k) * perMap + starts[v]);
      canvas.setAttribute("aria-label", `${kind.key} of vessel ${vessel}, ${view.name} plane ` +
        `${view.fixed} = ${view.index}, 0 to ${kind.top.toPrecision(3)} ${kind.unit}`);
    }));
    const row = data.rows.find(r => r.vessel === vessel);
    numbers.replaceChildren(...row.numbers.flatMap(([name, value]) => {
      const term = document.createElement("dt"), detail = document.createElement("dd");
      term.textContent = name;
      detail.textContent = value;
      return [term, detail];
    }));
    select.value = String(vessel);
    rows.forEach(tr => tr.setAttribute("aria-selected", String(Number(tr.dataset.vessel) === vessel)));
    document.body.dataset.chosen = String(vessel);
  }
  select.addEventListener("change", () => choose(Number(select.value)));
  rows.filter(tr => tr.hasAttribute("tabindex")).forEach(tr => {
    tr.addEventListener("click", () => choose(Number(tr.dataset.vessel)));
    tr.addEventListener("keydown", event => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(Number(tr.dataset.vessel)); }
    });
  });
  const scoreBar = document.getElementById("scorebar");
  if (scoreBar) {
    const stops = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(i => data.luts.score[Math.round(i / 10 * (data.luts.score.length - 1))]);
    scoreBar.style.background = `linear-gradient(to right, ${stops.join(",")})`;
  }
  if (data.vessels.length) choose(data.vessels[0]);
  document.body.dataset.planReady = "1";
})();
""".replace("__OUTLINE__", str([int(PALETTE["tumour"][i:i + 2], 16) for i in (1, 3, 5)])
            ).replace("__PIXELS__", str(PLANE_PIXELS))
