// detsim timeline: renders the model in #detsim-data (see src/trace/html/model.rs) on a
// canvas. Only what is in view is drawn (bars and marks are culled, and several bars in
// one pixel column are drawn once), so traces of 100k+ events stay interactive.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('detsim-data').textContent);
  var E = D.ev, N = E.t.length;
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $('tl-canvas'), ctx = canvas.getContext('2d'), box = $('tl-canvas-box');
  var tip = $('tl-tip'), list = $('tl-list'), space = $('tl-list-space');

  var GUTTER = 120, AXIS = 34, WORKER_H = 24, NODE_H = 40, PW = 6, LH = 16;
  var MARKS = [
    ['send', '\u25b2', '#1565c0'], ['deliver', '\u25bc', '#2e7d32'], ['DROP', '\u2715', '#d00000'],
    ['DUPLICATE', '\u00d72', '#7b1fa2'], ['CRASH', '\u2620', '#d00000'], ['RESTART', '\u21bb', '#2e7d32'],
    ['PAUSE', '\u23f8', '#b26a00'], ['RESUME', '\u25b6', '#2e7d32'], ['PARTITION', '\u2702', '#d35400'],
    ['HEAL', '\u2695', '#2e7d32'], ['FAULT', '\u26a1', '#d35400'],
    ['disk', '\u25a0', '#5d4037'], ['DISK ERROR', '\u25a0', '#d00000']];
  var ARROWS = ['rgba(90,90,90,0.55)', 'rgba(21,101,192,0.8)', 'rgba(208,0,0,0.85)', 'rgba(0,120,90,0.7)'];
  var REGIONS = [['down', 'rgba(210,0,0,0.16)'], ['paused', 'rgba(180,110,0,0.16)'], ['partitioned', 'rgba(211,84,0,0.10)']];

  // ---- lanes -------------------------------------------------------------------------
  var lanes = D.lanes, laneTop = [], laneH = [], totalH = 0;
  // Lanes grow (up to 2x) to fill the window, leaving room for the failure's label.
  function layoutLanes() {
    var base = 0;
    lanes.forEach(function (l) { base += l.kind === 'node' ? NODE_H : WORKER_H; });
    var scale = Math.min(Math.max((height() - AXIS - 30) / base, 1), 2);
    totalH = 0;
    lanes.forEach(function (l, i) {
      laneTop[i] = totalH; laneH[i] = Math.round((l.kind === 'node' ? NODE_H : WORKER_H) * scale); totalH += laneH[i];
    });
  }
  var failTask = D.failure && D.failure.task !== null ? D.failure.task : -1;
  // Hues 40..340: no task is drawn in the failure's red.
  function colour(task) { return 'hsl(' + Math.round(40 + ((task * 0.618034) % 1) * 300) + ',65%,' + (48 + (task % 3) * 8) + '%)'; }

  // ---- instants: events at one virtual time, spread over a few pixels in time mode ----
  var instOf = new Int32Array(N), iT = [], iFirst = [], iR = [];
  for (var i = 0; i < N; i++) {
    if (i === 0 || E.t[i] !== E.t[i - 1]) { iT.push(E.t[i]); iFirst.push(E.step[i]); iR.push(1); }
    var k = iT.length - 1; instOf[i] = k; iR[k] = E.step[i] - iFirst[k] + 1;
  }
  var tMin = N ? E.t[0] : 0, tMax = N ? E.t[N - 1] : 1, sMin = N ? E.step[0] : 0, sMax = N ? E.step[N - 1] + 1 : 1;
  for (var b = 0; b < D.bars.end.length; b++) tMax = Math.max(tMax, D.bars.end[b]);

  // ---- the view: u is virtual ns (time mode) or steps (step mode) ---------------------
  var V = { mode: tMax > tMin ? 'time' : 'steps', u0: 0, k: 1, vy: 0, sel: -1, focus: -1, wakes: true, msgs: true };
  function width() { return box.clientWidth; }
  function height() { return box.clientHeight; }
  function uMin() { return V.mode === 'time' ? tMin : sMin; }
  function uMax() { return V.mode === 'time' ? Math.max(tMax, tMin + 1) : Math.max(sMax, sMin + 1); }
  function fit() {
    var span = uMax() - uMin(), w = Math.max(width() - GUTTER - 30, 50);
    V.k = w / span; V.u0 = uMin() - 10 / V.k;
  }
  function xOfU(u) { return GUTTER + (u - V.u0) * V.k; }
  // Pixel offset of an event within its instant: up to PW px per step, squeezed into
  // the gap before the next instant.
  function offset(ev) {
    var n = instOf[ev], r = iR[n];
    if (r <= 1) return 0;
    var gap = n + 1 < iT.length ? (iT[n + 1] - iT[n]) * V.k * 0.8 : PW * r;
    return (E.step[ev] - iFirst[n]) * Math.min(PW, gap / r);
  }
  function xOf(ev) {
    return V.mode === 'time' ? xOfU(E.t[ev]) + offset(ev) : xOfU(E.step[ev]);
  }
  // x of a virtual time (burn ends): in step mode, the first step at or after it.
  function xOfTime(t) {
    if (V.mode === 'time') return xOfU(t);
    var lo = 0, hi = iT.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (iT[m] < t) lo = m + 1; else hi = m; }
    return xOfU(lo < iT.length ? iFirst[lo] : sMax);
  }
  function laneY(l) { return AXIS + laneTop[l] - V.vy; }

  // ---- formatting ---------------------------------------------------------------------
  function fmtNs(ns, unitOf) {
    var u = unitOf === undefined ? Math.abs(ns) : unitOf;
    if (u >= 1e9) return trim(ns / 1e9) + ' s';
    if (u >= 1e6) return trim(ns / 1e6) + ' ms';
    if (u >= 1e3) return trim(ns / 1e3) + ' \u00b5s';
    return trim(ns) + ' ns';
  }
  function trim(v) { return String(+v.toFixed(6)); }
  function taskLabel(t) {
    var ti = D.tasks[t];
    return ti ? 't' + t + ':' + ti.name : 't' + t;
  }
  function nodeLabel(n) {
    for (var i = 0; i < D.nodes.length; i++) if (D.nodes[i].id === n) return 'n' + n + ':' + D.nodes[i].name + (D.nodes[i].ip ? ' (' + D.nodes[i].ip + ')' : '');
    return 'n' + n;
  }
  function taskDetail(t) {
    var ti = D.tasks[t];
    if (!ti) return taskLabel(t);
    var s = 'task ' + taskLabel(t) + '  (id ' + t + ')\nspawned at ' + ti.spawned_at +
      (ti.parent === null ? '' : ' by ' + taskLabel(ti.parent));
    if (D.nodes.length > 1) s += '\nnode ' + nodeLabel(ti.node || 0);
    if (t === failTask) s += '\n\u2192 the failing task';
    return s;
  }
  function at(ev) { return fmtNs(E.t[ev]) + ' (step ' + E.step[ev] + ')'; }

  // ---- indexes for hover ---------------------------------------------------------------
  var barsOfLane = lanes.map(function () { return []; });
  for (b = 0; b < D.bars.ev.length; b++) barsOfLane[D.bars.lane[b]].push(b);
  var marksOfLane = lanes.map(function () { return []; });
  for (b = 0; b < D.marks.ev.length; b++) marksOfLane[D.marks.lane[b]].push(b);
  var arrowOfEv = {}, wokenBy = {};
  for (b = 0; b < D.arrows.kind.length; b++) {
    if (D.arrows.kind[b] === 0 || D.arrows.kind[b] === 3) { wokenBy[D.arrows.to_ev[b]] = b; continue; }
    arrowOfEv[D.arrows.from_ev[b]] = b; arrowOfEv[D.arrows.to_ev[b]] = b;
  }

  // ---- drawing --------------------------------------------------------------------------
  var stats = {};
  function resize() {
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.floor(width() * dpr); canvas.height = Math.floor(height() * dpr);
    canvas.style.width = width() + 'px'; canvas.style.height = height() + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  var pending = false;
  function redraw() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; draw(); }); } }

  function draw() {
    var W = width(), H = height(), started = performance.now();
    stats = { lanes: lanes.length, bars: 0, marks: 0, arrows: 0, regions: 0, failure: 0 };
    ctx.clearRect(0, 0, W, H);
    ctx.save();
    ctx.beginPath(); ctx.rect(GUTTER, AXIS, W - GUTTER, H - AXIS); ctx.clip();
    drawLaneBacks(W);
    drawRegions(W);
    drawBars(W);
    drawMarks(W);
    drawArrows(W);
    drawFailure(H);
    drawSelection(H);
    ctx.restore();
    drawGutter(H);
    drawAxis(W);
    stats.drawMs = Math.round(performance.now() - started);
    var s = $('tl-status');
    Object.keys(stats).forEach(function (k) { s.setAttribute('data-' + k, stats[k]); });
    s.setAttribute('data-mode', V.mode);
    s.textContent = 'drawn';
    $('tl-range').textContent = (V.mode === 'time'
      ? 'view ' + fmtNs(Math.max(V.u0, 0)) + ' \u2013 ' + fmtNs(V.u0 + (W - GUTTER) / V.k)
      : 'view steps ' + Math.max(Math.floor(V.u0), 0) + ' \u2013 ' + Math.ceil(V.u0 + (W - GUTTER) / V.k)) +
      (stats.arrowsHidden ? ' \u2014 zoom in to see ' + stats.arrowsHidden : '');
  }

  function drawLaneBacks(W) {
    for (var l = 0; l < lanes.length; l++) {
      var y = laneY(l);
      ctx.fillStyle = lanes[l].kind === 'node' ? (l % 2 ? '#f3f7fb' : '#e9f0f7') : (l % 2 ? '#fafafa' : '#f2f2f2');
      ctx.fillRect(GUTTER, y, W - GUTTER, laneH[l]);
      ctx.fillStyle = '#d4d4d4'; ctx.fillRect(GUTTER, y + laneH[l] - 1, W - GUTTER, 1);
    }
  }

  function drawRegions(W) {
    var R = D.regions;
    for (var r = 0; r < R.kind.length; r++) {
      var x0 = xOf(R.from_ev[r]), x1 = R.to_ev[r] < 0 ? W : xOf(R.to_ev[r]);
      if (x1 < GUTTER || x0 > W) continue;
      var l = R.lane[r], y = laneY(l);
      ctx.fillStyle = REGIONS[R.kind[r]][1];
      ctx.fillRect(x0, y, Math.max(x1 - x0, 2), laneH[l]);
      ctx.fillStyle = '#733'; ctx.font = '10px sans-serif';
      ctx.fillText(R.label[r], Math.max(x0, GUTTER) + 3, y + laneH[l] - 3);
      stats.regions++;
    }
  }

  function drawBars(W) {
    var B = D.bars, n = B.ev.length, lastX = new Float64Array(lanes.length).fill(-1e9), lastEnd = new Float64Array(lanes.length).fill(-1e9);
    var sw = V.mode === 'time' ? PW - 1 : Math.max(V.k - 1, 2);
    for (var b = 0; b < n; b++) {
      var ev = B.ev[b], l = B.lane[b], x0 = xOf(ev), x1;
      if (B.burn[b]) x1 = Math.max(xOfTime(B.end[b]), x0 + 2);
      else x1 = x0 + Math.min(Math.max(sw, 2), 40);
      if (x1 < GUTTER || x0 > W) continue;
      var y = laneY(l), h = lanes[l].kind === 'node' ? Math.round(laneH[l] * 0.35) : laneH[l] - 6;
      if (y + h < AXIS || y > height()) continue;
      var t = B.task[b];
      // Bars starting in one pixel column and ending inside what is drawn already:
      // draw the first only (and the failing task's always), so a zoomed-out view of
      // a huge trace costs one bar per pixel column and lane.
      if (Math.floor(x0) <= lastX[l] && x1 <= lastEnd[l] + 1 && t !== failTask) continue;
      lastX[l] = Math.floor(x0); lastEnd[l] = Math.max(lastEnd[l], x1);
      ctx.globalAlpha = V.focus >= 0 && t !== V.focus ? 0.2 : 1;
      if (B.burn[b]) {
        ctx.fillStyle = colour(t); ctx.fillRect(x0, y + 3 + h / 2 - 3, x1 - x0, 6);
        ctx.fillStyle = 'rgba(0,0,0,0.25)'; ctx.fillRect(x0, y + 3 + h / 2 - 3, x1 - x0, 2);
      } else {
        ctx.fillStyle = colour(t); ctx.fillRect(x0, y + 3, Math.max(x1 - x0, 1), h);
      }
      if (t === failTask) { ctx.strokeStyle = '#c00'; ctx.lineWidth = 2; ctx.strokeRect(x0 - 1, y + 2, Math.max(x1 - x0, 1) + 2, h + 2); }
      stats.bars++;
    }
    ctx.globalAlpha = 1;
  }

  function markXY(m) {
    var l = D.marks.lane[m], ev = D.marks.ev[m];
    return [xOf(ev) + 2, laneY(l) + Math.round(laneH[l] * 0.62), l, ev];
  }
  function drawMarks(W) {
    ctx.font = '11px sans-serif'; ctx.textAlign = 'center';
    var M = D.marks, last = -1e9;
    for (var m = 0; m < M.ev.length; m++) {
      var p = markXY(m); if (p[0] < GUTTER - 8 || p[0] > W + 8) continue;
      var kind = M.kind[m], big = kind >= 4;
      if (!big && p[0] - last < 1) continue;
      last = p[0];
      ctx.fillStyle = MARKS[kind][2];
      if (big) {
        ctx.fillRect(p[0] - 1, laneY(p[2]), 2, laneH[p[2]]);
        ctx.font = 'bold 10px sans-serif'; ctx.fillText(MARKS[kind][0], p[0], laneY(p[2]) + 10); ctx.font = '11px sans-serif';
      }
      ctx.fillText(MARKS[kind][1], p[0], p[1] + 4);
      stats.marks++;
    }
    ctx.textAlign = 'left';
  }

  function arrowEnd(lane, ev, kind) {
    var y = lanes[lane].kind === 'node' ? (kind === 0 || kind === 3 ? laneY(lane) + 10 : laneY(lane) + Math.round(laneH[lane] * 0.62)) : laneY(lane) + laneH[lane] / 2;
    return [xOf(ev) + 2, y];
  }
  // Too many arrows in view are a smear, and slow: above MAX_ARROWS of a kind (wakes and
  // timers, or messages) in view, that kind is left out until the user zooms in.
  var MAX_ARROWS = 3000;
  function drawArrows(W) {
    var A = D.arrows, drawn = 0, inView = [0, 0], visible = [];
    for (var a = 0; a < A.kind.length; a++) {
      var kind = A.kind[a];
      if (kind === 0 || kind === 3 ? !V.wakes : !V.msgs) continue;
      var x0 = xOf(A.from_ev[a]), x1 = xOf(A.to_ev[a]);
      if (Math.max(x0, x1) < GUTTER || Math.min(x0, x1) > W) continue;
      inView[kind === 0 || kind === 3 ? 0 : 1]++;
      visible.push(a);
    }
    var hidden = [];
    if (inView[0] > MAX_ARROWS) hidden.push(inView[0] + ' wake/timer arrows');
    if (inView[1] > MAX_ARROWS) hidden.push(inView[1] + ' message arrows');
    stats.arrowsHidden = hidden.length ? hidden.join(', ') : '';
    for (var j = 0; j < visible.length; j++) {
      a = visible[j]; kind = A.kind[a];
      if (inView[kind === 0 || kind === 3 ? 0 : 1] > MAX_ARROWS) continue;
      var p = arrowEnd(A.from_lane[a], A.from_ev[a], kind), q = arrowEnd(A.to_lane[a], A.to_ev[a], kind);
      var sel = V.sel >= 0 && (A.from_ev[a] === V.sel || A.to_ev[a] === V.sel);
      ctx.strokeStyle = ctx.fillStyle = ARROWS[kind];
      ctx.lineWidth = sel ? 2.5 : kind === 0 || kind === 3 ? 1 : 1.4;
      ctx.setLineDash(kind === 2 ? [4, 3] : kind === 3 ? [2, 2] : []);
      ctx.beginPath(); ctx.moveTo(p[0], p[1]);
      var v = A.via[a], from = p;
      if (v >= 0) {
        // A timer: armed -> fired (a ring at its deadline) -> the poll it caused.
        var fx = V.mode === 'time' ? xOfU(E.t[v]) : xOf(v) + 2;
        ctx.lineTo(fx, q[1]); from = [fx, q[1]];
      }
      ctx.lineTo(q[0], q[1]); ctx.stroke();
      ctx.setLineDash([]);
      if (v >= 0) { ctx.beginPath(); ctx.arc(from[0], from[1], 3, 0, 2 * Math.PI); ctx.stroke(); }
      var ang = Math.atan2(q[1] - from[1], q[0] - from[0]), s = 6;
      if (kind === 2) {
        ctx.lineWidth = 2; ctx.beginPath();
        ctx.moveTo(q[0] - 4, q[1] - 4); ctx.lineTo(q[0] + 4, q[1] + 4); ctx.moveTo(q[0] + 4, q[1] - 4); ctx.lineTo(q[0] - 4, q[1] + 4); ctx.stroke();
      } else {
        ctx.beginPath(); ctx.moveTo(q[0], q[1]);
        ctx.lineTo(q[0] - s * Math.cos(ang - 0.4), q[1] - s * Math.sin(ang - 0.4));
        ctx.lineTo(q[0] - s * Math.cos(ang + 0.4), q[1] - s * Math.sin(ang + 0.4)); ctx.fill();
      }
      drawn++;
    }
    stats.arrows = drawn;
  }

  function drawFailure(H) {
    if (!D.failure) return;
    var x = xOf(D.failure.ev) + 2;
    ctx.fillStyle = '#c00'; ctx.fillRect(x - 1, AXIS, 3, H - AXIS);
    var msg = 'FAILURE: ' + D.failure.message.split('\n')[0];
    ctx.font = 'bold 12px sans-serif';
    var w = Math.min(ctx.measureText(msg).width + 10, width() - GUTTER - 10);
    var bx = x + w + 4 > width() ? Math.max(GUTTER + 2, x - w - 4) : x + 4;
    bx = Math.min(Math.max(bx, GUTTER + 2), width() - w - 2); // in view even when its line is not
    var by = AXIS + totalH - V.vy + 4;
    if (by + 20 > H) by = AXIS + 2;
    ctx.fillStyle = 'rgba(255,235,235,0.95)'; ctx.fillRect(bx, by, w, 18);
    ctx.strokeStyle = '#c00'; ctx.lineWidth = 1; ctx.strokeRect(bx, by, w, 18);
    ctx.save(); ctx.beginPath(); ctx.rect(bx, by, w, 18); ctx.clip();
    ctx.fillStyle = '#900'; ctx.fillText(msg, bx + 5, by + 13); ctx.restore();
    stats.failure = 1;
  }

  function drawSelection(H) {
    if (V.sel < 0) return;
    var x = xOf(V.sel) + 2;
    ctx.strokeStyle = '#e6a800'; ctx.lineWidth = 1; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(x, AXIS); ctx.lineTo(x, H); ctx.stroke(); ctx.setLineDash([]);
  }

  function drawGutter(H) {
    ctx.fillStyle = '#fff'; ctx.fillRect(0, AXIS, GUTTER, H - AXIS);
    ctx.save(); ctx.beginPath(); ctx.rect(0, AXIS, GUTTER, H - AXIS); ctx.clip();
    ctx.font = '12px ui-monospace, monospace';
    for (var l = 0; l < lanes.length; l++) {
      var y = laneY(l);
      ctx.fillStyle = lanes[l].kind === 'node' ? '#124' : '#333';
      ctx.fillText(lanes[l].label.slice(0, 15), 4, y + 15);
      ctx.fillStyle = '#ddd'; ctx.fillRect(0, y + laneH[l] - 1, GUTTER, 1);
    }
    ctx.restore();
    ctx.fillStyle = '#999'; ctx.fillRect(GUTTER - 1, AXIS, 1, H - AXIS);
  }

  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function drawAxis(W) {
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, AXIS);
    ctx.fillStyle = '#000'; ctx.fillRect(GUTTER, AXIS - 1, W - GUTTER, 1);
    ctx.font = '11px sans-serif'; ctx.fillStyle = '#333';
    ctx.fillText(V.mode === 'time' ? 'virtual time' : 'step (time)', 4, 14);
    var span = (W - GUTTER) / V.k, step = niceStep(Math.max(span / Math.max((W - GUTTER) / 110, 1), V.mode === 'time' ? 1 : 1));
    var first = Math.ceil(V.u0 / step) * step;
    for (var u = first; u <= V.u0 + span; u += step) {
      var x = xOfU(u);
      ctx.fillRect(x, AXIS - 7, 1, 6);
      var label = V.mode === 'time' ? fmtNs(u, step) : String(Math.round(u)) + timeAtStep(u);
      ctx.fillText(label, x + 3, AXIS - 10);
    }
  }
  function timeAtStep(s) {
    var lo = 0, hi = iFirst.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (iFirst[m] <= s) lo = m + 1; else hi = m; }
    return lo > 0 ? ' (' + fmtNs(iT[lo - 1]) + ')' : '';
  }

  // ---- hit testing and hover ------------------------------------------------------------
  function laneAt(y) {
    var yy = y - AXIS + V.vy;
    for (var l = 0; l < lanes.length; l++) if (yy >= laneTop[l] && yy < laneTop[l] + laneH[l]) return l;
    return -1;
  }
  function hit(x, y) {
    var l = laneAt(y); if (l < 0 || x < GUTTER) return null;
    var ms = marksOfLane[l], best = null, bd = 7;
    for (var i = 0; i < ms.length; i++) {
      var p = markXY(ms[i]), d = Math.abs(p[0] - x);
      if (d < bd && Math.abs(p[1] - y) < 12) { bd = d; best = { mark: ms[i], ev: p[3] }; }
    }
    if (best) return best;
    var bs = barsOfLane[l], sw = V.mode === 'time' ? PW - 1 : Math.max(V.k - 1, 2);
    for (i = bs.length - 1; i >= 0; i--) {
      var b = bs[i], ev = D.bars.ev[b], x0 = xOf(ev);
      var x1 = D.bars.burn[b] ? xOfTime(D.bars.end[b]) : x0 + Math.min(Math.max(sw, 2), 40);
      if (x >= x0 - 2 && x <= Math.max(x1, x0 + 3) + 1) return { bar: b, ev: ev };
    }
    if (D.failure && Math.abs(xOf(D.failure.ev) + 2 - x) < 4) return { ev: D.failure.ev, failure: true };
    return null;
  }
  function pollEvents(ev) {
    var out = [];
    for (var i = ev; i < N && out.length < 8; i++) {
      if (i > ev && (E.step[i] !== E.step[ev] || E.task[i] !== E.task[ev] || E.w[i] !== E.w[ev])) break;
      out.push(E.lines[i].replace(/^\s*\S+\s+\S+\s+\S+\s+(n\S+\s+)?\S+\s+/, ''));
    }
    return out;
  }
  function wokenText(ev) {
    var a = wokenBy[ev]; if (a === undefined) return '';
    var f = D.arrows.from_ev[a], v = D.arrows.via[a];
    if (v >= 0) return '\ntimer armed ' + at(f) + ', fired ' + at(v) + ', polled ' + fmtNs(E.t[ev] - E.t[v]) + ' after firing';
    return '\nwoken ' + at(f) + (E.task[f] >= 0 ? ' by ' + taskLabel(E.task[f]) : '') + ' (' + E.lines[f].replace(/^\s*\S+\s+\S+\s+\S+\s+(n\S+\s+)?\S+\s+/, '') + ')';
  }
  function describe(h) {
    var ev = h.ev, s;
    if (h.bar !== undefined) {
      var t = D.bars.task[h.bar];
      if (D.bars.burn[h.bar]) {
        s = 'burn ' + fmtNs(D.bars.end[h.bar] - E.t[ev]) + ': ' + fmtNs(E.t[ev]) + ' \u2192 ' + fmtNs(D.bars.end[h.bar]) + ' on worker ' + E.w[ev] + ' (step ' + E.step[ev] + ')';
      } else {
        s = 'poll at ' + at(ev) + ' on worker ' + E.w[ev] + wokenText(ev) + '\n  ' + pollEvents(ev).join('\n  ');
      }
      return taskDetail(t) + '\n' + s;
    }
    s = E.lines[ev].replace(/^\s*\S+\s+\S+\s+\S+\s+(n\S+\s+)?\S+\s+/, '') + '\nat ' + at(ev);
    if (E.node[ev] >= 0 && D.nodes.length > 1) s += '\nnode ' + nodeLabel(E.node[ev]);
    var a = arrowOfEv[ev];
    if (a !== undefined) {
      var f = D.arrows.from_ev[a], g = D.arrows.to_ev[a];
      s += '\nsent ' + at(f) + (D.arrows.kind[a] === 2 ? ', dropped ' : ', delivered ') + at(g) + ' \u2014 in flight ' + fmtNs(E.t[g] - E.t[f]);
    }
    if (E.task[ev] >= 0) s += '\n' + taskDetail(E.task[ev]);
    if (h.failure) s = 'FAILURE at ' + at(ev) + '\n' + D.failure.message + (failTask >= 0 ? '\n\n' + taskDetail(failTask) : '');
    return s;
  }
  function showTip(h, x, y) {
    if (!h) { tip.hidden = true; return; }
    tip.textContent = describe(h); tip.hidden = false;
    var W = width(), H = height(), tw = tip.offsetWidth, th = tip.offsetHeight;
    tip.style.left = Math.max(0, Math.min(x + 14, W - tw - 4)) + 'px';
    tip.style.top = Math.max(0, y + 16 + th > H ? y - th - 8 : y + 16) + 'px';
  }

  // ---- zoom and pan ----------------------------------------------------------------------
  function zoom(f, x) {
    var W = width(); if (x === undefined) x = GUTTER + (W - GUTTER) / 2;
    var u = V.u0 + (x - GUTTER) / V.k, fitK = (W - GUTTER) / (uMax() - uMin());
    V.k = Math.min(Math.max(V.k * f, fitK / 4), V.mode === 'time' ? 1e4 : 400);
    V.u0 = u - (x - GUTTER) / V.k; redraw();
  }
  function maxVy() { return Math.max(0, totalH + 20 - (height() - AXIS)); }
  function center(ev) {
    var W = width(), x = xOf(ev);
    if (x < GUTTER + 20 || x > W - 20) { V.u0 += (x - (GUTTER + (W - GUTTER) / 2)) / V.k; }
  }
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    if (e.shiftKey) { V.vy = Math.min(Math.max(V.vy + e.deltaY, 0), maxVy()); redraw(); return; }
    var r = canvas.getBoundingClientRect();
    zoom(Math.pow(1.0015, -e.deltaY), e.clientX - r.left);
  }, { passive: false });
  var drag = null;
  canvas.addEventListener('mousedown', function (e) { drag = { x: e.clientX, y: e.clientY, u0: V.u0, vy: V.vy, moved: false }; });
  window.addEventListener('mouseup', function (e) {
    if (drag && !drag.moved) {
      var r = canvas.getBoundingClientRect(), h = hit(e.clientX - r.left, e.clientY - r.top);
      if (h) select(h.ev, true);
    }
    drag = null; canvas.classList.remove('dragging');
  });
  window.addEventListener('mousemove', function (e) {
    var r = canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    if (drag) {
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; canvas.classList.add('dragging'); }
      if (drag.moved) {
        V.u0 = drag.u0 - dx / V.k; V.vy = Math.min(Math.max(drag.vy - dy, 0), maxVy());
        tip.hidden = true; redraw(); return;
      }
    }
    if (x < 0 || y < 0 || x > width() || y > height()) { tip.hidden = true; return; }
    showTip(hit(x, y), x, y);
  });
  canvas.addEventListener('mouseleave', function () { tip.hidden = true; });

  // ---- the event list (virtual: only visible rows exist) ---------------------------------
  space.style.height = (N * LH) + 'px';
  var rows = {};
  function renderList() {
    var top = list.scrollTop, first = Math.max(0, Math.floor(top / LH) - 10), last = Math.min(N, Math.ceil((top + list.clientHeight) / LH) + 10);
    var keep = {};
    for (var i = first; i < last; i++) {
      keep[i] = 1;
      var r = rows[i];
      if (!r) {
        r = document.createElement('div'); r.className = 'ev'; r.style.top = (i * LH) + 'px';
        r.textContent = E.lines[i]; r.setAttribute('data-ev', i);
        if (E.task[i] >= 0) r.style.borderLeftColor = colour(E.task[i]);
        if (D.failure && D.failure.ev === i) r.classList.add('fail');
        else if (E.task[i] < 0 && E.node[i] >= 0) r.classList.add('world');
        space.appendChild(r); rows[i] = r;
      }
      r.classList.toggle('sel', i === V.sel);
    }
    Object.keys(rows).forEach(function (k) { if (!keep[k]) { space.removeChild(rows[k]); delete rows[k]; } });
  }
  list.addEventListener('scroll', renderList);
  space.addEventListener('click', function (e) {
    var t = e.target.closest('.ev'); if (t) { select(+t.getAttribute('data-ev'), false); center(V.sel); redraw(); }
  });
  function select(ev, scroll) {
    V.sel = ev;
    if (scroll) {
      var want = ev * LH - list.clientHeight / 2;
      list.scrollTop = Math.max(0, want);
    }
    $('tl-sel').textContent = 'event ' + ev + ' of ' + N + (D.skipped ? ' (+' + D.skipped + ' earlier, not shown)' : '');
    renderList(); redraw();
  }

  // ---- header: title, failure, legend, buttons ------------------------------------------
  $('tl-title').textContent = 'detsim trace \u2014 seed ' + D.seed + ', fingerprint ' + D.fingerprint + ', ' + D.total + ' events, ' + D.tasks.length + ' tasks' + (D.nodes.length > 1 ? ', ' + (D.nodes.length) + ' nodes' : '');
  if (D.failure) {
    var f = $('tl-failure');
    f.textContent = 'FAILURE at ' + at(D.failure.ev) + (failTask >= 0 ? ' in ' + taskLabel(failTask) : '') + ': ' + D.failure.message;
    f.hidden = false; f.title = 'click: go to the failure';
    f.addEventListener('click', gotoFailure);
  } else { $('tl-goto-failure').disabled = true; }
  if (D.skipped) {
    $('tl-note').textContent = 'This trace has ' + D.total + ' events; the page shows the last ' + N + ' (the first ' + D.skipped + ' are left out). Use --trace text or json for all of them.';
    $('tl-note').hidden = false;
  }
  var legend = $('tl-legend');
  D.tasks.forEach(function (t) {
    var c = document.createElement('span'); c.className = 'chip' + (t.id === failTask ? ' failing' : '');
    c.style.background = colour(t.id); c.textContent = 't' + t.id + ' ' + t.name + (t.id === failTask ? ' \u2717' : '');
    c.title = taskDetail(t.id) + '\nclick: highlight this task';
    c.addEventListener('click', function () {
      V.focus = V.focus === t.id ? -1 : t.id;
      Array.prototype.forEach.call(legend.children, function (x) { x.classList.remove('focus'); });
      if (V.focus >= 0) c.classList.add('focus');
      redraw();
    });
    legend.appendChild(c);
  });
  function gotoFailure() {
    if (!D.failure) return;
    select(D.failure.ev, true); center(D.failure.ev); redraw();
  }
  $('tl-zoom-in').onclick = function () { zoom(2); };
  $('tl-zoom-out').onclick = function () { zoom(0.5); };
  $('tl-fit').onclick = function () { fit(); redraw(); };
  $('tl-goto-failure').onclick = gotoFailure;
  function setMode(m) {
    V.mode = m; $('tl-axis').textContent = 'axis: ' + (m === 'time' ? 'time' : 'steps'); fit();
    if (V.sel >= 0) center(V.sel);
    redraw();
  }
  $('tl-axis').onclick = function () { setMode(V.mode === 'time' ? 'steps' : 'time'); };
  $('tl-wakes').onchange = function (e) { V.wakes = e.target.checked; redraw(); };
  $('tl-msgs').onchange = function (e) { V.msgs = e.target.checked; redraw(); };
  $('tl-find').addEventListener('keydown', function (e) {
    if (e.key !== 'Enter' || !e.target.value) return;
    var q = e.target.value.toLowerCase();
    for (var j = 1; j <= N; j++) {
      var i = (Math.max(V.sel, -1) + j) % N;
      if (E.lines[i].toLowerCase().indexOf(q) >= 0) { select(i, true); center(i); redraw(); return; }
    }
  });
  window.addEventListener('keydown', function (e) {
    if (e.target.tagName === 'INPUT') return;
    if (e.key === '+' || e.key === '=') zoom(1.5);
    else if (e.key === '-') zoom(1 / 1.5);
    else if (e.key === '0') { fit(); redraw(); }
    else if (e.key === 'f') gotoFailure();
    else if (e.key === 's') $('tl-axis').onclick();
    else if (e.key === 'ArrowLeft') { V.u0 -= 100 / V.k; redraw(); }
    else if (e.key === 'ArrowRight') { V.u0 += 100 / V.k; redraw(); }
  });
  window.addEventListener('resize', function () { resize(); layoutLanes(); renderList(); redraw(); });

  $('tl-axis').textContent = 'axis: ' + (V.mode === 'time' ? 'time' : 'steps');
  // For scripts and tests driving the page (tests/trace_timeline.rs probes hover, click
  // and zoom through this).
  window.detsimTimeline = { data: D, view: V, xOf: xOf, laneY: laneY, hit: hit, select: select, draw: draw };
  resize(); layoutLanes(); fit(); renderList(); draw();
  $('tl-status').setAttribute('data-ready-ms', Math.round(performance.now()));
})();
