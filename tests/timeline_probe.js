// Interaction probe (tests/trace_timeline.rs): hover, click and zoom, results in #tl-probe.
window.addEventListener('load', function () {
  var out = {}, T = window.detsimTimeline, D = T.data;
  try {
    var canvas = document.getElementById('tl-canvas'), r = canvas.getBoundingClientRect();
    // The failing task's last poll bar in its worker lane.
    var b = -1;
    for (var i = 0; i < D.bars.ev.length; i++) if (D.bars.task[i] === D.failure.task && !D.bars.burn[i] && D.bars.lane[i] < D.workers) b = i;
    var ev = D.bars.ev[b], x = r.left + T.xOf(ev) + 2, y = r.top + T.laneY(D.bars.lane[b]) + 8;
    window.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y }));
    var tip = document.getElementById('tl-tip');
    out.tip = tip.hidden ? '' : tip.textContent;
    canvas.dispatchEvent(new MouseEvent('mousedown', { clientX: x, clientY: y, bubbles: true }));
    window.dispatchEvent(new MouseEvent('mouseup', { clientX: x, clientY: y }));
    var sel = document.querySelector('.ev.sel');
    out.selected = sel ? +sel.getAttribute('data-ev') : -1;
    out.expected = ev;
    out.scrolled = document.getElementById('tl-list').scrollTop;
    var before = document.getElementById('tl-range').textContent;
    canvas.dispatchEvent(new WheelEvent('wheel', { clientX: x, clientY: y, deltaY: -500, bubbles: true, cancelable: true }));
    T.draw();
    out.zoomed = document.getElementById('tl-range').textContent !== before;
    out.range = document.getElementById('tl-range').textContent;
  } catch (e) { out.error = String(e); }
  var p = document.createElement('pre'); p.id = 'tl-probe'; p.textContent = JSON.stringify(out); document.body.appendChild(p);
});
