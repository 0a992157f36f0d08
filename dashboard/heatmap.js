// inkcore's cell heatmap: every cell's state over a line, drawn on a canvas in the
// page, one pixel of the image per (row, step), scaled to the plot. Hovering names the
// row, the cell and c; a click reports the cell and the step to Python.
//
// A Plotly heatmap with a grid of invisible click targets (Streamlit reports clicks on
// markers, not on heatmap tiles) was slow to draw for each new line and for each click.
// A line's levels come once (data.line names them) and are kept; a picture is its rows
// in some order, each a cell's levels, negated where the cell is flipped. A rerun that
// sends the same picture draws nothing (data.id says which picture it is).

const views = new Map(); // component key -> the view and the picture it draws
const lines = new Map(); // line -> its levels, a row per cell in the cells' own order; the newest last
const KEPT_LINES = 12;

// The levels of the line the data names: sent with it, or kept from before; null (after
// asking Python for them) when this page has not got them.
function lineLevels(data, setStateValue) {
  if (data.levels) {
    lines.delete(data.line);
    lines.set(data.line, decode(data.levels));
    while (lines.size > KEPT_LINES) lines.delete(lines.keys().next().value);
  }
  const found = lines.get(data.line);
  if (!found) setStateValue("need_line", data.line);
  return found ?? null;
}

function decode(base64) {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return new Int8Array(bytes.buffer);
}

function colourAt(scale, t) {
  // scale: [[stop, [r, g, b]], ...] with stops from 0 to 1
  let k = 1;
  while (k < scale.length - 1 && scale[k][0] < t) k += 1;
  const [s0, c0] = scale[k - 1], [s1, c1] = scale[k];
  const f = s1 > s0 ? Math.min(1, Math.max(0, (t - s0) / (s1 - s0))) : 0;
  return c0.map((v, i) => Math.round(v + (c1[i] - v) * f));
}

function lookup(scale, levels) {
  // a colour for each level from -levels to +levels
  const table = new Uint8ClampedArray((2 * levels + 1) * 4);
  for (let v = -levels; v <= levels; v += 1) {
    const [r, g, b] = colourAt(scale, (v + levels) / (2 * levels));
    table.set([r, g, b, 255], (v + levels) * 4);
  }
  return table;
}

function image(data, line) {
  // the picture: one row per cell (in display order, signed), one column per step
  const { rows, steps } = data, levels = data.levels_max;
  const values = new Int8Array(rows * steps);
  for (let r = 0; r < rows; r += 1) {
    const from = data.cells[r] * steps, sign = data.signs[r], to = r * steps;
    for (let t = 0; t < steps; t += 1) values[to + t] = sign * line[from + t];
  }
  const table = lookup(data.scale, levels);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(steps, 1);
  canvas.height = Math.max(rows, 1);
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < values.length; i += 1) pixels.data.set(table.subarray((values[i] + levels) * 4, (values[i] + levels) * 4 + 4), i * 4);
  context.putImageData(pixels, 0, 0);
  return { canvas, values };
}

function niceTicks(low, high, count) {
  const span = Math.max(high - low, 1);
  const raw = span / count, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high; t += step) ticks.push(t);
  return ticks;
}

function createView(parent) {
  const root = document.createElement("div");
  root.className = "inkcore-heatmap";
  root.setAttribute("data-testid", "inkcore-heatmap");
  const canvas = document.createElement("canvas");
  const tip = document.createElement("div");
  tip.className = "tip";
  root.appendChild(canvas);
  root.appendChild(tip);
  parent.appendChild(root);
  return { root, canvas, tip, drawn: 0, clicks: 0 };
}

function plotBox(view) {
  const m = view.data.margin;
  const width = Math.max(view.root.clientWidth, m.l + m.r + 50);
  return { width, height: view.data.height, x: m.l, y: m.t, w: width - m.l - m.r, h: view.data.height - m.t - m.b };
}

function draw(view) {
  const data = view.data, box = plotBox(view), ratio = window.devicePixelRatio || 1;
  const canvas = view.canvas, context = canvas.getContext("2d");
  canvas.width = Math.round(box.width * ratio);
  canvas.height = Math.round(box.height * ratio);
  canvas.style.width = `${box.width}px`;
  canvas.style.height = `${box.height}px`;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, box.width, box.height);
  context.imageSmoothingEnabled = false;
  context.drawImage(view.picture.canvas, box.x, box.y, box.w, box.h);
  context.fillStyle = "#444";
  context.strokeStyle = "#444";
  context.font = "11px sans-serif";
  // axes: steps along the bottom, rows down the left (row 0 at the top)
  context.textAlign = "center";
  context.textBaseline = "top";
  for (const t of niceTicks(0, data.steps - 1, 8)) {
    const x = box.x + ((t + 0.5) / data.steps) * box.w;
    context.fillRect(x, box.y + box.h, 1, 4);
    context.fillText(String(t), x, box.y + box.h + 6);
  }
  context.font = "12px sans-serif";
  context.fillText("step", box.x + box.w / 2, box.y + box.h + 24);
  context.font = "11px sans-serif";
  context.textAlign = "right";
  context.textBaseline = "middle";
  for (const t of niceTicks(0, data.rows - 1, 6)) {
    const y = box.y + ((t + 0.5) / data.rows) * box.h;
    context.fillRect(box.x - 4, y, 4, 1);
    context.fillText(String(t), box.x - 6, y);
  }
  context.save();
  context.translate(14, box.y + box.h / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = "center";
  context.font = "12px sans-serif";
  context.fillText(data.axis, 0, 0);
  context.restore();
  // the colour bar, labelled in c
  const barX = box.x + box.w + 12, barW = 12;
  for (let i = 0; i < box.h; i += 1) {
    const [r, g, b] = colourAt(data.scale, 1 - i / Math.max(box.h - 1, 1));
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.fillRect(barX, box.y + i, barW, 1.5);
  }
  context.fillStyle = "#444";
  context.textAlign = "left";
  for (let k = 0; k < 5; k += 1) {
    const f = k / 4, y = box.y + f * box.h;
    context.fillRect(barX + barW, y, 3, 1);
    context.fillText(String(Number(((1 - 2 * f) * data.limit).toPrecision(2)) + 0), barX + barW + 5, y);
  }
  context.textBaseline = "top";
  context.font = "12px sans-serif";
  context.fillText(data.value || "c", barX + 2, box.y + box.h + 6);
  view.drawn += 1;
  view.root.setAttribute("data-drawn", String(view.drawn));
  view.root.setAttribute("data-figure", `${data.id}:${view.root.clientWidth}`);
}

function at(view, event) {
  // the row and step under the pointer, or null outside the plot
  const box = plotBox(view), bounds = view.canvas.getBoundingClientRect();
  const x = event.clientX - bounds.left - box.x, y = event.clientY - bounds.top - box.y;
  if (x < 0 || y < 0 || x >= box.w || y >= box.h) return null;
  const step = Math.min(view.data.steps - 1, Math.floor((x / box.w) * view.data.steps));
  const row = Math.min(view.data.rows - 1, Math.floor((y / box.h) * view.data.rows));
  return { row, step, x: x + box.x, y: y + box.y };
}

function attach(view, setStateValue) {
  const canvas = view.canvas;
  canvas.style.cursor = "pointer";
  canvas.addEventListener("pointermove", (event) => {
    const spot = at(view, event);
    if (!spot) {
      view.tip.style.display = "none";
      return;
    }
    const data = view.data, cell = data.cells[spot.row];
    const c = (view.picture.values[spot.row * data.steps + spot.step] / data.levels_max) * data.limit;
    view.tip.innerHTML = `row ${spot.row} · ${data.unit || "cell"} ${cell}<br>step ${spot.step}<br>${data.value || "c"} ≈ ${c.toFixed(2)}`;
    view.tip.style.display = "block";
    const flip = spot.x > view.root.clientWidth - 160;
    view.tip.style.left = `${flip ? spot.x - 130 : spot.x + 12}px`;
    view.tip.style.top = `${Math.max(0, spot.y - 20)}px`;
  });
  canvas.addEventListener("pointerleave", () => { view.tip.style.display = "none"; });
  // A click event's coordinates are whole pixels, a pointer event's are not: the spot
  // pressed is the one the tooltip named.
  canvas.addEventListener("pointerdown", (event) => { view.pressed = at(view, event); });
  canvas.addEventListener("click", () => {
    const spot = view.pressed;
    if (!spot) return;
    view.clicks += 1;
    setStateValue("click", { cell: view.data.cells[spot.row], row: spot.row, step: spot.step, n: view.clicks,
      line: view.data.id });
  });
}

export default function (component) {
  const { data, key, parentElement, setStateValue } = component;
  let view = views.get(key);
  if (!view || !parentElement.contains(view.root)) {
    if (view) view.resize.disconnect();
    view = createView(parentElement);
    views.set(key, view);
    attach(view, setStateValue);
    view.resize = new ResizeObserver(() => { if (view.picture) draw(view); });
    view.resize.observe(view.root);
  }
  window.inkcoreHeatmap = { lines }; // what the page keeps, for the tests to look at
  if (view.id !== data.id) { // a new line or order: draw it; the same picture is left as it is
    const line = lineLevels(data, setStateValue);
    if (line) {
      view.id = data.id;
      view.data = data;
      view.picture = image(data, line);
      draw(view);
    }
  }
  return () => {};
}
