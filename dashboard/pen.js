// inkcore's pen surface: records pointer events with their times, draws the ink as
// it is written, reads the pen as inkcore.pen does and steps the model in the page,
// so the prediction follows the pen with no round trip to the server.
//
// The reading and the LSTM step mirror inkcore/pen.py and inkcore/model.py; the
// tests run both on the same input and compare them (tests/test_pen_browser.py).

// inkcore.pen's SAMPLE_MS and INK_SPEED: the parity tests hold the two readings together.
const SAMPLE_MS = 15.0;
const INK_SPEED = 1.33; // whiteboard units per ms, given to strokes that carry no times
const FADE = 0.3; // older predictions fade under a wash of this opacity
const REST_MS = 150; // how often the prediction is drawn again while the pen rests
const REST_BUDGET_MS = 6; // the most of a frame a resting redraw takes

const models = new Map(); // model key -> weights, kept for the page's lifetime
const dictionaries = new Map(); // dictionary key -> its encoder, kept for the page's lifetime
const surfaces = new Map(); // component key -> what was written and read there

// --- The model -------------------------------------------------------------------

export function makeModel(meta, base64) {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  const floats = new Float32Array(bytes.buffer);
  const n = meta.cells, m = meta.components, out = 1 + 6 * m, g = 4 * n;
  let at = 0;
  // float32, as the engine holds them; sums are in double precision
  const take = (size) => {
    const part = floats.slice(at, at + size);
    at += size;
    return part;
  };
  const model = { n, m, out, forgetBias: meta.forget_bias,
    Wx: take(3 * g), Wh: take(n * g), b: take(g), Wo: take(n * out), bo: take(out) };
  if (at !== floats.length) throw new Error(`weights hold ${floats.length} numbers, expected ${at}`);
  return model;
}

export function zeroState(model) {
  return { h: new Float64Array(model.n), c: new Float64Array(model.n) };
}

const sigmoid = (a) => 0.5 * (1 + Math.tanh(0.5 * a));

// One LSTM step for several pens: xs is a list of [dx, dy, pen], states a list of {h, c}.
export function stepMany(model, xs, states) {
  const { n, Wx, Wh, b } = model, g = 4 * n;
  const zs = xs.map((x) => {
    const z = Float64Array.from(b);
    for (let k = 0; k < 3; k++) {
      const v = x[k];
      if (v !== 0) for (let j = 0, o = k * g; j < g; j++) z[j] += v * Wx[o + j];
    }
    return z;
  });
  // z += h W_h, eight rows of W_h at a time: each pass over z then does eight
  // multiply-adds per load and store, about three times faster than one.
  let i = 0;
  for (; i + 7 < n; i += 8) {
    const o = i * g;
    for (let p = 0; p < states.length; p++) {
      const h = states[p].h, z = zs[p];
      const h0 = h[i], h1 = h[i + 1], h2 = h[i + 2], h3 = h[i + 3];
      const h4 = h[i + 4], h5 = h[i + 5], h6 = h[i + 6], h7 = h[i + 7];
      for (let j = 0; j < g; j++) {
        z[j] += h0 * Wh[o + j] + h1 * Wh[o + g + j] + h2 * Wh[o + 2 * g + j] + h3 * Wh[o + 3 * g + j]
          + h4 * Wh[o + 4 * g + j] + h5 * Wh[o + 5 * g + j] + h6 * Wh[o + 6 * g + j] + h7 * Wh[o + 7 * g + j];
      }
    }
  }
  for (; i < n; i++) {
    const o = i * g;
    for (let p = 0; p < states.length; p++) {
      const hi = states[p].h[i], z = zs[p];
      for (let j = 0; j < g; j++) z[j] += hi * Wh[o + j];
    }
  }
  return zs.map((z, p) => {
    const h = new Float64Array(n), c = new Float64Array(n), cOld = states[p].c;
    for (let j = 0; j < n; j++) {
      const ig = sigmoid(z[j]), gg = Math.tanh(z[n + j]);
      const fg = sigmoid(z[2 * n + j] + model.forgetBias), og = sigmoid(z[3 * n + j]);
      c[j] = fg * cOld[j] + ig * gg;
      h[j] = og * Math.tanh(c[j]);
    }
    return { h, c };
  });
}

export function step(model, x, state) {
  return stepMany(model, [x], [state])[0];
}

// The network's output y (1 + 6M): eos logit, mixture logits, mu_x, mu_y, log sigma_x,
// log sigma_y, raw rho (the layout of inkcore.model.output_layout).
export function output(model, h) {
  const { n, out, Wo } = model;
  const y = Float64Array.from(model.bo);
  for (let i = 0; i < n; i++) {
    const hi = h[i];
    if (hi === 0) continue;
    for (let j = 0, o = i * out; j < out; j++) y[j] += hi * Wo[o + j];
  }
  return y;
}

function normal(random) {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

// One offset drawn from the mixture, as inkcore.sampling.sample: weights raised to
// 1 / variation, both sigmas times variation, the end-of-stroke probability unchanged.
export function sampleOffset(model, y, variation, random = Math.random) {
  const m = model.m;
  let k = 0;
  if (variation === 0) {
    for (let j = 1; j < m; j++) if (y[1 + j] > y[1 + k]) k = j;
  } else {
    let top = -Infinity;
    for (let j = 0; j < m; j++) top = Math.max(top, y[1 + j] / variation);
    const w = new Float64Array(m);
    let total = 0;
    for (let j = 0; j < m; j++) total += (w[j] = Math.exp(y[1 + j] / variation - top));
    let u = random() * total;
    while (k < m - 1 && u >= w[k]) u -= w[k++];
  }
  const muX = y[1 + m + k], muY = y[1 + 2 * m + k];
  const sx = Math.exp(y[1 + 3 * m + k]) * variation, sy = Math.exp(y[1 + 4 * m + k]) * variation;
  const rho = Math.tanh(y[1 + 5 * m + k]);
  const z1 = normal(random), z2 = normal(random);
  const eos = sigmoid(y[0]);
  return [muX + sx * z1, muY + sy * (rho * z1 + Math.sqrt(1 - rho * rho) * z2), random() < eos ? 1 : 0];
}

// --- The reading (inkcore.pen._read_at) --------------------------------------------

function strokeTimes(stroke, unitsPerPixel) {
  const t = stroke.map((e) => e[2] - stroke[0][2]);
  if (stroke.length > 1 && t[t.length - 1] === 0) {
    let along = 0;
    return stroke.map((e, i) => {
      if (i > 0) along += Math.hypot(e[0] - stroke[i - 1][0], e[1] - stroke[i - 1][1]);
      return (along * unitsPerPixel) / INK_SPEED;
    });
  }
  return t;
}

function interp(at, t, v) {
  if (at <= t[0]) return v[0];
  const last = t.length - 1;
  if (at >= t[last]) return v[last];
  let lo = 0, hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t[mid] <= at) lo = mid; else hi = mid;
  }
  return t[hi] === t[lo] ? v[hi] : v[lo] + ((at - t[lo]) / (t[hi] - t[lo])) * (v[hi] - v[lo]);
}

// Pixel points of one stroke, every period ms of its own time and its end (when ended).
function strokePoints(stroke, period, unitsPerPixel, ended) {
  const t = strokeTimes(stroke, unitsPerPixel);
  const end = t[t.length - 1];
  if (stroke.length === 1 || end === 0) return ended || stroke.length ? [[stroke[0][0], stroke[0][1]]] : [];
  const xs = stroke.map((e) => e[0]), ys = stroke.map((e) => e[1]);
  const points = [];
  for (let k = 0; k * period < end; k++) points.push([interp(k * period, t, xs), interp(k * period, t, ys)]);
  if (ended) points.push([xs[xs.length - 1], ys[ys.length - 1]]);
  return points;
}

// Pixel points [x, y, lift] of finished strokes and, unended, the stroke being written.
export function readPoints(strokes, unitsPerPixel, speedFactor, current = null) {
  const period = SAMPLE_MS * speedFactor;
  const points = [];
  for (const stroke of strokes) {
    const part = strokePoints(stroke, period, unitsPerPixel, true);
    part.forEach((p, i) => points.push([p[0], p[1], i === part.length - 1 ? 1 : 0]));
  }
  if (current && current.length) {
    for (const p of strokePoints(current, period, unitsPerPixel, false)) points.push([p[0], p[1], 0]);
  }
  return points;
}

export function readRows(strokes, unitsPerPixel, speedFactor) {
  const points = readPoints(strokes, unitsPerPixel, speedFactor);
  const scale = unitsPerPixel / 40;
  const rows = [];
  for (let i = 1; i < points.length; i++) {
    rows.push([(points[i][0] - points[i - 1][0]) * scale, (points[i][1] - points[i - 1][1]) * scale, points[i][2]]);
  }
  return rows;
}

// --- The dictionary of features ----------------------------------------------------
// Encoding mirrors inkcore/features.py: z = ((x / scale) - b_dec) @ W_enc + b_enc, then
// relu, topk (max(z, 0) on the k largest z) or jumprelu (z where z > threshold).

let halfFloats = null; // every float16 bit pattern's value

function fromHalf(bytes) {
  if (!halfFloats) {
    halfFloats = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) {
      const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
      halfFloats[bits] = exponent === 0 ? sign * fraction * 2 ** -24
        : exponent === 31 ? (fraction ? NaN : sign * Infinity)
        : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
    }
  }
  const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return Float32Array.from(words, (w) => halfFloats[w]);
}

function decodeBase64(text) {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

export function makeDictionary(meta) {
  const S = meta.size, F = meta.features;
  const encoder = decodeBase64(meta.encoder);
  const Wenc = meta.encoder_bits === 16 ? fromHalf(encoder) : new Float32Array(encoder.buffer);
  const vectors = new Float32Array(decodeBase64(meta.vectors).buffer);
  if (Wenc.length !== S * F) throw new Error(`the encoder holds ${Wenc.length} numbers, expected ${S * F}`);
  const expected = 2 * S + F + (meta.activation === "jumprelu" ? F : 0);
  if (vectors.length !== expected) throw new Error(`the biases hold ${vectors.length} numbers, expected ${expected}`);
  return { S, F, Wenc, bEnc: vectors.subarray(0, F), bDec: vectors.subarray(F, F + S),
    scale: vectors.subarray(F + S, F + 2 * S), threshold: meta.activation === "jumprelu" ? vectors.subarray(F + 2 * S) : null,
    activation: meta.activation, k: meta.k, state: meta.state, labels: meta.labels || [] };
}

// The pre-activations z (F) of one state x (S).
export function preActivations(d, x) {
  const { S, F, Wenc, bDec, scale } = d;
  const z = Float64Array.from(d.bEnc);
  for (let s = 0; s < S; s++) {
    const v = x[s] / scale[s] - bDec[s];
    if (v === 0) continue;
    const row = s * F;
    for (let f = 0; f < F; f++) z[f] += v * Wenc[row + f];
  }
  return z;
}

// The active features of pre-activations z, the most active first: [[feature, activation], ...].
export function activeFeatures(d, z) {
  const active = [];
  if (d.activation === "topk") {
    const order = Uint32Array.from({ length: z.length }, (_, f) => f).sort((a, b) => z[b] - z[a]);
    for (let i = 0; i < d.k; i++) if (z[order[i]] > 0) active.push([order[i], z[order[i]]]);
    return active;
  }
  for (let f = 0; f < z.length; f++) {
    const on = d.activation === "jumprelu" ? z[f] > d.threshold[f] : z[f] > 0;
    if (on) active.push([f, z[f]]);
  }
  return active.sort((a, b) => b[1] - a[1]);
}

// inkcore.features.Dictionary.label: the stroke event a feature tells best, with its AUC.
export function featureLabel(d, f) {
  const label = d.labels[f];
  return label ? `${label[0]}, AUC ${label[1].toFixed(2)}` : `feature ${f}`;
}

// --- The surface ---------------------------------------------------------------------

function cellColour(v) {
  // brown (negative) - white - blue-green (positive), as the heatmaps
  const a = Math.max(-1, Math.min(1, v));
  const [r, g, b] = a < 0 ? [140, 81, 10] : [1, 102, 94];
  const s = Math.abs(a);
  return `rgb(${Math.round(255 + (r - 255) * s)},${Math.round(255 + (g - 255) * s)},${Math.round(255 + (b - 255) * s)})`;
}

function createView(parent, width, height, mode) {
  const root = document.createElement("div");
  root.className = "inkcore-pen";
  root.setAttribute("data-testid", "inkcore-pen");
  root.style.width = `${width}px`;
  const stack = document.createElement("div");
  stack.className = "stack";
  stack.style.height = `${height}px`;
  const ratio = window.devicePixelRatio || 1;
  const layer = (name) => {
    const canvas = document.createElement("canvas");
    canvas.className = name;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const context = canvas.getContext("2d");
    context.scale(ratio, ratio);
    stack.appendChild(canvas);
    return context;
  };
  const view = { root, pred: layer("pred"), ink: layer("ink"), width, height, mode };
  view.surface = view.ink.canvas;
  root.appendChild(stack);
  const status = document.createElement("div");
  status.className = "status";
  root.appendChild(status);
  view.status = status;
  if (mode === "watch") {
    const cells = document.createElement("canvas");
    cells.className = "cells";
    cells.width = 25 * 14;
    cells.height = 20 * 14;
    cells.title = "The 500 cells' state c at the pen's tip: 25 columns, 20 rows, cell = 25 x row + column";
    const live = document.createElement("div");
    live.className = "live";
    live.appendChild(cells);
    const list = document.createElement("div");
    list.className = "features";
    list.setAttribute("data-testid", "inkcore-live-features");
    live.appendChild(list);
    root.appendChild(live);
    view.cells = cells.getContext("2d");
    view.features = list;
  }
  parent.appendChild(root);
  return view;
}

function drawInk(view, surface) {
  const g = view.ink;
  g.clearRect(0, 0, view.width, view.height);
  g.strokeStyle = surface.ink;
  g.fillStyle = surface.ink;
  g.lineWidth = 3;
  g.lineCap = "round";
  g.lineJoin = "round";
  const all = surface.current ? [...surface.strokes, surface.current] : surface.strokes;
  for (const stroke of all) {
    if (stroke.length === 1) {
      g.beginPath();
      g.arc(stroke[0][0], stroke[0][1], 1.8, 0, 2 * Math.PI);
      g.fill();
      continue;
    }
    g.beginPath();
    stroke.forEach((e, i) => (i ? g.lineTo(e[0], e[1]) : g.moveTo(e[0], e[1])));
    g.stroke();
  }
}

function drawCells(view, c) {
  if (!view.cells || !c) return;
  for (let i = 0; i < c.length; i++) {
    view.cells.fillStyle = cellColour(c[i]);
    view.cells.fillRect((i % 25) * 14, Math.floor(i / 25) * 14, 13, 13);
  }
}

// The features most active at the pen's tip, listed beside the cells.
function drawFeatures(view, surface) {
  if (!view.features) return;
  const d = surface.dictionary;
  if (!d || !surface.model) {
    view.features.textContent = "";
    view.root.removeAttribute("data-features");
    return;
  }
  const x = surface.state && surface.fed ? surface.state[d.state] : null;
  if (!x) {
    view.features.innerHTML = '<div class="title">Features at the pen\'s tip appear here as you write.</div>';
    view.root.setAttribute("data-features", "[]");
    return;
  }
  const active = activeFeatures(d, preActivations(d, x));
  const shown = active.slice(0, surface.featuresShown);
  const top = shown.length ? shown[0][1] : 1;
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = `${active.length} features active at the pen's tip; the ${shown.length} strongest:`;
  const list = document.createElement("ol");
  for (const [f, a] of shown) {
    const item = document.createElement("li");
    item.title = `feature ${f}: activation ${a.toFixed(3)}`;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.max(2, Math.round(60 * a / top))}px`;
    const number = document.createElement("b");
    number.textContent = String(f);
    const text = document.createElement("span");
    text.textContent = ` ${featureLabel(d, f)}`;
    item.append(bar, number, text);
    list.appendChild(item);
  }
  view.features.replaceChildren(title, list);
  view.root.setAttribute("data-features", JSON.stringify(active));
  surface.featureUpdates = (surface.featureUpdates || 0) + 1;
  view.root.setAttribute("data-feature-updates", String(surface.featureUpdates));
}

// The model's view of the surface: the points read so far and the state after them.
function resetReading(surface) {
  surface.points = [];
  surface.state = surface.model ? zeroState(surface.model) : null;
  surface.fed = 0; // points whose rows the state has read (the first point has no row)
  surface.lastRow = [0, 0, 0];
}

// Read any new points and step the model over them; returns whether the state moved.
function catchUp(surface, budgetMs = Infinity) {
  const points = readPoints(surface.strokes, surface.upp, surface.factor, surface.current);
  if (!surface.model) { // a surface without the model in the page still says what it reads
    surface.points = points;
    surface.upToDate = true;
    return false;
  }
  const started = performance.now();
  // Points of the stroke being written are final, except that its end is not read yet.
  surface.points = points;
  let moved = false;
  const scale = surface.upp / 40;
  if (surface.fed === 0 && points.length) {
    surface.state = step(surface.model, [0, 0, 0], zeroState(surface.model)); // the protocol's zero row
    surface.fed = 1;
    moved = true;
  }
  while (surface.fed < points.length && performance.now() - started < budgetMs) {
    const i = surface.fed, a = points[i - 1], b = points[i];
    const row = [(b[0] - a[0]) * scale, (b[1] - a[1]) * scale, b[2]];
    surface.state = step(surface.model, row, surface.state);
    surface.lastRow = row;
    surface.fed += 1;
    moved = true;
  }
  surface.upToDate = surface.fed >= points.length;
  return moved;
}

// The prediction from the pen's tip: `candidates` futures of `length` steps, sampled from
// copies of the state. While the pen moves it is drawn in the frame that read the move;
// while the pen rests it is redrawn again and again, each one spread over frames of at
// most REST_BUDGET_MS, so that the page (a slider's answer among it) is never held up.
// Returns whether nothing is left to do: false while a prediction is part-way.
function predict(surface, view, budgetMs = Infinity) {
  const { model, state } = surface;
  if (!model || !state || !surface.points.length || !surface.upToDate || view.mode !== "write") {
    surface.prediction = null;
    return true;
  }
  const started = performance.now();
  const wanted = [surface.length, surface.candidates, surface.variation].join();
  let p = surface.prediction;
  if (!p || p.state !== state || p.wanted !== wanted) p = surface.prediction = beginPrediction(surface, model, state, wanted);
  while (p.k < surface.length && performance.now() - started < budgetMs) {
    const rows = p.ys.map((y) => sampleOffset(model, y, surface.variation));
    rows.forEach((r, i) => {
      const last = p.paths[i][p.paths[i].length - 1];
      p.paths[i].push([last[0] + r[0] * p.scale, last[1] + r[1] * p.scale, r[2]]);
    });
    p.k += 1;
    if (p.k < surface.length) {
      p.states = stepMany(model, rows, p.states);
      p.ys = p.states.map((s) => output(model, s.h));
    }
  }
  if (p.k < surface.length) return false;
  surface.prediction = null;
  drawPrediction(surface, view, p.paths);
  return true;
}

function beginPrediction(surface, model, state, wanted) {
  const states = Array.from({ length: surface.candidates }, () => state);
  const tip = surface.points[surface.points.length - 1];
  return { state, wanted, k: 0, states, ys: states.map((s) => output(model, s.h)), scale: 40 / surface.upp,
    paths: states.map(() => [[tip[0], tip[1], 0]]) };
}

function drawPrediction(surface, view, paths) {
  const g = view.pred;
  g.fillStyle = `rgba(255,255,255,${FADE})`;
  g.fillRect(0, 0, view.width, view.height);
  paths.forEach((path, p) => {
    g.strokeStyle = surface.colours[p % surface.colours.length];
    g.lineWidth = 2;
    g.lineCap = "round";
    g.beginPath();
    let up = false;
    path.forEach((q, i) => {
      if (i === 0 || up) g.moveTo(q[0], q[1]);
      else g.lineTo(q[0], q[1]);
      up = i > 0 && q[2] === 1;
    });
    g.stroke();
  });
  surface.predictions += 1;
  if (surface.moveStamp !== null) {
    surface.latencies.push(performance.now() - surface.moveStamp);
    if (surface.latencies.length > 2000) surface.latencies.shift();
    surface.moveStamp = null;
  }
  view.root.setAttribute("data-predictions", String(surface.predictions));
  view.root.setAttribute("data-latencies", surface.latencies.slice(-500).map((v) => v.toFixed(1)).join(","));
}

function describe(surface, view) {
  const n = surface.strokes.length + (surface.current ? 1 : 0);
  if (!n) {
    view.status.textContent = view.mode === "plain" ? "Write here." : "Write here: the model reads your pen as it moves.";
    return;
  }
  const rows = Math.max(0, surface.points.length - 1);
  const scale = surface.scaleKnown ? "" : " (scale is estimated when the pen lifts)";
  view.status.textContent = `${n} stroke${n === 1 ? "" : "s"} · ${rows} points read at ${surface.upp.toFixed(2)} `
    + `whiteboard units per pixel${scale}`;
  view.root.setAttribute("data-rows", String(rows));
}

function schedule(surface, view) {
  if (surface.frame) return;
  surface.frame = requestAnimationFrame(() => {
    surface.frame = 0;
    if (!surface.view || surface.view !== view) return;
    const moved = catchUp(surface, 12);
    drawCells(view, surface.state && surface.state.c);
    if (moved || surface.featuresStale) drawFeatures(view, surface);
    surface.featuresStale = false;
    // a move is answered in its own frame; a resting redraw takes its turn with the page
    if (!surface.upToDate || !predict(surface, view, surface.moveStamp === null ? REST_BUDGET_MS : Infinity)) {
      schedule(surface, view);
    }
    describe(surface, view);
  });
}

// Events whose time does not move on add nothing to a time series (inkcore.pen.as_strokes drops them too).
function record(stroke, event) {
  if (!stroke.length || event[2] > stroke[stroke.length - 1][2]) stroke.push(event);
}

function attach(surface, view, setStateValue) {
  const el = view.surface;
  el.style.touchAction = "none";
  const position = (e) => {
    const box = el.getBoundingClientRect();
    return [e.clientX - box.left, e.clientY - box.top, e.timeStamp];
  };
  el.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    el.setPointerCapture(e.pointerId);
    surface.current = [position(e)];
    surface.moveStamp = e.timeStamp;
    drawInk(view, surface);
    schedule(surface, view);
  });
  el.addEventListener("pointermove", (e) => {
    if (!surface.current) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const one of events.length ? events : [e]) record(surface.current, position(one));
    surface.moveStamp = e.timeStamp;
    drawInk(view, surface);
    // Read, step and predict at once: waiting for the next frame would add up to 16 ms.
    const moved = catchUp(surface, 30);
    drawCells(view, surface.state && surface.state.c);
    if (moved) drawFeatures(view, surface);
    if (surface.upToDate) predict(surface, view);
    else schedule(surface, view);
    describe(surface, view);
  });
  const finish = (e) => {
    if (!surface.current) return;
    if (e && e.type === "pointerup") record(surface.current, position(e));
    // The stroke's samples read so far stay as they are; its end is read next, with the lift.
    surface.strokes.push(surface.current);
    surface.current = null;
    surface.scaleKnown = false;
    drawInk(view, surface);
    schedule(surface, view);
    setStateValue("strokes", surface.strokes);
  };
  el.addEventListener("pointerup", finish);
  el.addEventListener("pointercancel", finish);
  el.addEventListener("lostpointercapture", () => finish(null));
}

export default function (component) {
  const { data, key, parentElement, setStateValue } = component;
  let surface = surfaces.get(key);
  if (!surface) {
    surface = { strokes: (data.strokes || []).map((s) => s.map((e) => [...e])), current: null,
      upp: 3.0, factor: 1.0, scaleKnown: false, predictions: 0, latencies: [], moveStamp: null };
    surfaces.set(key, surface);
  }
  const info = data.model;
  if (info && info.weights) models.set(info.key, makeModel(info, info.weights));
  const model = info ? models.get(info.key) ?? null : null;
  const wanted = data.dictionary;
  if (wanted && wanted.encoder && !dictionaries.has(wanted.key)) dictionaries.set(wanted.key, makeDictionary(wanted));
  const dictionary = wanted ? dictionaries.get(wanted.key) ?? null : null;
  if (dictionary !== surface.dictionary) surface.featuresStale = true;
  surface.dictionary = dictionary;
  surface.featuresShown = wanted ? wanted.shown : 0;
  surface.length = data.length ?? 20;
  surface.variation = data.variation ?? 0.1;
  surface.candidates = data.candidates ?? 1;
  surface.ink = data.ink; // the figures' colours (inkcore.figures), so a candidate is one colour everywhere
  surface.colours = data.colours;
  const reading = data.reading;
  let reread = model !== surface.model;
  if (reading && reading.strokes === surface.strokes.length) {
    if (reading.units_per_pixel !== surface.upp || reading.speed_factor !== surface.factor) reread = true;
    surface.upp = reading.units_per_pixel;
    surface.factor = reading.speed_factor;
    surface.scaleKnown = reading.strokes > 0; // with nothing written, the scale is only the default
  }
  surface.model = model;
  if (reread) {
    resetReading(surface);
    surface.featuresStale = true;
  }

  let view = surface.view;
  if (!view || !parentElement.contains(view.root)) {
    view = createView(parentElement, data.width, data.height, data.mode);
    surface.view = view;
    attach(surface, view, setStateValue);
  }
  view.mode = data.mode;
  if (info && !model) {
    view.root.setAttribute("data-model", "missing");
    setStateValue("need_model", info.key);
  } else {
    view.root.setAttribute("data-model", model ? "ready" : "none");
  }
  if (wanted && !dictionary) setStateValue("need_dictionary", wanted.key);
  view.root.setAttribute("data-dictionary", dictionary ? "ready" : wanted ? "missing" : "none");
  drawInk(view, surface);
  schedule(surface, view);
  // While the pen rests the prediction is drawn again and again, older ones fading.
  const resting = setInterval(() => {
    if (document.visibilityState === "visible" && !surface.current) schedule(surface, view);
  }, REST_MS);
  window.inkcorePen = { makeModel, step, stepMany, output, readRows, readPoints, sampleOffset, zeroState, surfaces,
    makeDictionary, preActivations, activeFeatures };
  return () => {
    clearInterval(resting);
    if (surface.frame) cancelAnimationFrame(surface.frame);
    surface.frame = 0;
  };
}
