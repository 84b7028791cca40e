// The polygon editor's page (see mask_editor.h): one canvas with the face, its polygons (green
// include, red exclude, the one being drawn dashed) and, when the face has one, its learned mask
// as a blue overlay. The face fills the window; points are kept in face-image pixels.
//   click            add a point to the polygon being drawn
//   Enter / dbl-click close it (3 points or more)
//   I / E            the next polygon includes / excludes
//   Z (Ctrl+Z)       undo the last point, else the last polygon
//   Escape           drop the polygon being drawn
//   S                save; A / Left, D / Right: previous / next face (saving first when changed)
//   M                the learned-mask overlay on / off
// The page keeps its state in window.facetEditor (face, polygons, saved count) for anyone
// scripting it.
#include "pipeline/mask/mask_editor.h"

namespace facet::mask {

const char* mask_editor_page() {
  return R"HTML(<!doctype html>
<html><head><meta charset="utf-8"><title>facet mask edit</title>
<style>
  body { margin: 0; background: #202124; color: #e8eaed; font: 14px sans-serif; }
  #bar { padding: 6px 10px; background: #303134; display: flex; gap: 18px; align-items: center; }
  #status.error { color: #f28b82; }
  #help { padding: 4px 10px; color: #9aa0a6; font-size: 12px; }
  canvas { display: block; margin: 8px auto; cursor: crosshair; image-rendering: pixelated; }
</style></head>
<body>
<div id="bar"><b id="name">loading...</b><span id="pos"></span><span>next polygon: <b id="mode">include</b></span>
  <span id="status"></span></div>
<div id="help">click: point &middot; Enter / double-click: close polygon &middot; I / E: include / exclude &middot;
  Z: undo &middot; Esc: drop the open polygon &middot; S: save &middot; A / &larr;, D / &rarr;: previous / next &middot;
  M: learned mask overlay</div>
<canvas id="canvas"></canvas>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const api = (path, name) => path + "?token=" + encodeURIComponent(token) +
  (name === undefined ? "" : "&name=" + encodeURIComponent(name));
const canvas = document.getElementById("canvas"), g = canvas.getContext("2d");
const ed = window.facetEditor = { faces: [], index: 0, polygons: [], open: [], mode: "include",
  showMask: true, dirty: false, saves: 0, ready: false, image: null, mask: null, scale: 1 };

function status(text, error) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = error ? "error" : "";
}

function loadImage(url) {
  return new Promise((resolve) => {
    const im = new Image();
    im.onload = () => resolve(im);
    im.onerror = () => resolve(null);
    im.src = url;
  });
}

async function show(i) {
  ed.ready = false;
  ed.index = (i + ed.faces.length) % ed.faces.length;
  const f = ed.faces[ed.index];
  ed.polygons = (f.polygons || []).map((p) => ({ type: p.type, points: p.points.map((q) => [q[0], q[1]]) }));
  ed.open = [];
  ed.dirty = false;
  ed.image = await loadImage(api("/api/image", f.name));
  ed.mask = f.learned_mask ? await loadImage(api("/api/mask", f.name)) : null;
  document.getElementById("name").textContent = f.name;
  document.getElementById("pos").textContent = (ed.index + 1) + " / " + ed.faces.length;
  layout();
  status(f.error ? f.error : (ed.polygons.length + " polygon(s)" + (ed.mask ? ", learned mask" : "")), !!f.error);
  ed.ready = true;
}

function layout() {
  if (!ed.image) return;
  const room = Math.max(200, Math.min(window.innerWidth - 20, window.innerHeight - 90));
  ed.scale = room / Math.max(ed.image.width, ed.image.height);
  canvas.width = Math.round(ed.image.width * ed.scale);
  canvas.height = Math.round(ed.image.height * ed.scale);
  draw();
}

function path(points, close) {
  g.beginPath();
  points.forEach((q, k) => (k ? g.lineTo : g.moveTo).call(g, q[0] * ed.scale, q[1] * ed.scale));
  if (close) g.closePath();
}

function draw() {
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!ed.image) return;
  g.drawImage(ed.image, 0, 0, canvas.width, canvas.height);
  if (ed.mask && ed.showMask) {
    g.save();
    g.globalAlpha = 0.35;
    g.globalCompositeOperation = "screen";
    g.filter = "sepia(1) hue-rotate(180deg) saturate(4)";
    g.drawImage(ed.mask, 0, 0, canvas.width, canvas.height);
    g.restore();
  }
  for (const p of ed.polygons) {
    const colour = p.type === "include" ? "rgba(80,220,120," : "rgba(240,90,90,";
    path(p.points, true);
    g.fillStyle = colour + "0.25)";
    g.fill();
    g.strokeStyle = colour + "1)";
    g.lineWidth = 2;
    g.stroke();
  }
  if (ed.open.length) {
    g.setLineDash([6, 4]);
    path(ed.open, false);
    g.strokeStyle = ed.mode === "include" ? "#8ef" : "#fa8";
    g.lineWidth = 2;
    g.stroke();
    g.setLineDash([]);
    for (const q of ed.open) g.fillRect(q[0] * ed.scale - 2, q[1] * ed.scale - 2, 5, 5);
  }
  document.getElementById("mode").textContent = ed.mode;
}

function closeOpen() {
  if (ed.open.length < 3) return status("a polygon needs 3 points or more", true);
  ed.polygons.push({ type: ed.mode, points: ed.open });
  ed.open = [];
  ed.dirty = true;
  draw();
}

function undo() {
  if (ed.open.length) ed.open.pop();
  else if (ed.polygons.length) ed.polygons.pop();
  else return;
  ed.dirty = true;
  draw();
}

async function save() {
  const f = ed.faces[ed.index];
  const body = JSON.stringify({ polygons: ed.polygons });
  try {
    const r = await fetch(api("/api/polygons", f.name), { method: "POST", body: body,
      headers: { "Content-Type": "application/json" } });
    const reply = await r.json();
    if (!r.ok) throw new Error(reply.error || r.statusText);
    f.polygons = ed.polygons.map((p) => ({ type: p.type, points: p.points.slice() }));
    ed.dirty = false;
    ed.saves++;
    status("saved " + reply.polygons + " polygon(s), " + reply.mask_pixels + " mask pixels");
    return true;
  } catch (e) {
    status("not saved: " + e.message, true);
    return false;
  }
}

async function go(step) {
  if (ed.dirty && !(await save())) return;
  await show(ed.index + step);
}

canvas.addEventListener("mousedown", (e) => {
  if (e.button !== 0 || !ed.ready) return;
  const r = canvas.getBoundingClientRect();
  ed.open.push([(e.clientX - r.left) / ed.scale, (e.clientY - r.top) / ed.scale]);
  draw();
});
canvas.addEventListener("dblclick", () => { ed.open.pop(); closeOpen(); });  // the 2nd click added a point
document.addEventListener("keydown", (e) => {
  const k = e.key.toLowerCase();
  if (k === "enter") closeOpen();
  else if (k === "i") { ed.mode = "include"; draw(); }
  else if (k === "e") { ed.mode = "exclude"; draw(); }
  else if (k === "z") undo();
  else if (k === "escape") { ed.open = []; draw(); }
  else if (k === "s") save();
  else if (k === "a" || k === "arrowleft") go(-1);
  else if (k === "d" || k === "arrowright") go(1);
  else if (k === "m") { ed.showMask = !ed.showMask; draw(); }
  else return;
  e.preventDefault();
});
window.addEventListener("resize", layout);
window.addEventListener("beforeunload", (e) => { if (ed.dirty) e.preventDefault(); });

(async () => {
  const r = await fetch(api("/api/faces"));
  if (!r.ok) return status("cannot list the faces: " + (await r.text()), true);
  ed.faces = (await r.json()).faces;
  await show(0);
})();
</script>
</body></html>
)HTML";
}

}  // namespace facet::mask
