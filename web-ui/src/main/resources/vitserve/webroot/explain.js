// vitserve web page: "Show where it looked", a heatmap over the previewed photo. Attention rollout of the model's
// answer (POST v1/models/{name}/explain), or, for the label picked in the top 5 (click its bar), occlusion; an opacity
// slider and a legend. app.js calls offer() when it shows predictions and clear() when it clears them.
'use strict';

window.vitserveExplain = (() => {
  /** The server's colour map (HeatmapPng): 0 at the first stop, 1 at the last. */
  const STOPS = [[48, 18, 59], [70, 134, 251], [27, 229, 181], [164, 252, 60], [250, 186, 57], [228, 70, 11], [122, 4, 3]];
  let shown = null;    // {model, input, result, results, image}: the answer the controls belong to
  let panel = null;    // the controls under the predictions
  let canvas = null;   // the heatmap over the photo
  let running = null;  // AbortController of the explain request

  function colour(t) {
    const at = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
    const lower = Math.min(STOPS.length - 2, Math.floor(at));
    const f = at - lower;
    return STOPS[lower].map((c, k) => Math.round(c + f * (STOPS[lower + 1][k] - c)));
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // The controls, under the predictions of an answer just shown.
  function offer(context) {
    clear();
    if (!context.input || !context.result || !Array.isArray(context.result.predictions)) return;
    shown = context;
    panel = el('div', 'explain');
    panel.id = 'explain';
    const toggleLabel = el('label', 'explain-switch');
    const toggle = el('input');
    toggle.type = 'checkbox';
    toggle.id = 'explain-toggle';
    toggle.setAttribute('role', 'switch');
    toggleLabel.append(toggle, el('span', null, 'Show where it looked'));
    const opacityLabel = el('label', 'explain-opacity', 'Opacity ');
    const opacity = el('input');
    opacity.type = 'range';
    opacity.id = 'explain-opacity';
    opacity.min = '0';
    opacity.max = '100';
    opacity.value = '60';
    opacityLabel.append(opacity);
    const legend = el('div', 'explain-legend');
    legend.id = 'explain-legend';
    legend.append(el('span', null, 'less'), el('span', 'explain-gradient'), el('span', null, 'more'));
    const note = el('p', 'explain-note');
    note.id = 'explain-note';
    note.setAttribute('role', 'status');
    const details = el('div', 'explain-details');
    details.hidden = true;
    details.append(opacityLabel, legend);
    panel.append(toggleLabel, details, note);
    context.results.append(panel);
    const items = context.results.querySelectorAll('.prediction');
    items.forEach((li, i) => {
      const p = context.result.predictions[i];
      if (!p) return;
      li.dataset.index = String(p.index);
      li.addEventListener('click', () => pick(li));
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          pick(li);
        }
      });
    });
    toggle.addEventListener('change', () => {
      details.hidden = !toggle.checked;
      items.forEach((li) => {
        if (toggle.checked) {
          li.tabIndex = 0;
          li.setAttribute('role', 'button');
          li.title = 'Show where the model looked for this label (occlusion)';
        } else {
          li.removeAttribute('tabindex');
          li.removeAttribute('role');
          li.removeAttribute('aria-pressed');
          li.removeAttribute('title');
        }
      });
      if (toggle.checked) run('rollout', null, null);
      else hide();
    });
    opacity.addEventListener('input', () => {
      if (canvas) canvas.style.opacity = String(opacity.value / 100);
    });
  }

  // A bar of the top 5 clicked while the heatmap is on: occlusion for its label.
  function pick(li) {
    const toggle = document.getElementById('explain-toggle');
    if (!toggle || !toggle.checked) return;
    shown.results.querySelectorAll('.prediction').forEach((other) => other.setAttribute('aria-pressed', String(other === li)));
    run('occlusion', li.dataset.index, li.querySelector('.label').textContent);
  }

  function hide() {
    if (running) running.abort();
    running = null;
    if (canvas) canvas.remove();
    canvas = null;
    const note = document.getElementById('explain-note');
    if (note) note.textContent = '';
  }

  function clear() {
    hide();
    if (panel) panel.remove();
    panel = null;
    shown = null;
  }

  // The request body of the photo shown: the file as it is, or its address as JSON, as classify sent it.
  function body(input) {
    if (input.url) return { body: JSON.stringify({ url: input.url }), type: 'application/json' };
    return { body: input.file, type: input.file.type || 'application/octet-stream' };
  }

  async function run(method, target, label) {
    if (running) running.abort();
    const ctrl = new AbortController();
    running = ctrl;
    const context = shown;
    const note = document.getElementById('explain-note');
    note.textContent = method === 'rollout' ? 'Finding where the model looked…'
      : `Hiding each part of the photo in turn to see what “${label}” depends on…`;
    const base = context.model ? `v1/models/${encodeURIComponent(context.model)}/explain` : 'v1/explain';
    const query = new URLSearchParams({ method });
    if (target !== null) query.set('target', target);
    try {
      const { body: payload, type } = body(context.input);
      const res = await fetch(`${base}?${query}`, { method: 'POST', body: payload, signal: ctrl.signal,
        headers: { Accept: 'application/json', 'Content-Type': type } });
      const data = await res.json();
      if (ctrl.signal.aborted || context !== shown) return;
      if (!res.ok) {
        const code = data && data.error ? data.error.code : '';
        if (code === 'rollout_unavailable' && method === 'rollout') {
          // Swin and exported networks: occlusion for the answer's label instead
          const top = context.result.predictions[0];
          running = null;
          run('occlusion', String(top.index), top.label);
          return;
        }
        note.textContent = `Couldn't explain it: ${data && data.error ? data.error.message : `HTTP ${res.status}`}`;
        return;
      }
      draw(data);
      note.textContent = method === 'rollout'
        ? `Attention rollout: how much the model's answer drew on each ${data.grid.rows} × ${data.grid.cols} patch.`
        : `Occlusion for “${data.target.label}”: how much its score drops when each of the ${data.grid.rows} × `
          + `${data.grid.cols} cells is hidden (${data.engine_images} runs of the model).`;
    } catch (e) {
      if (!ctrl.signal.aborted) note.textContent = `Couldn't explain it: ${e.message}`;
    } finally {
      if (running === ctrl) running = null;
    }
  }

  // The heatmap as a canvas of one pixel per cell, stretched over the photo as it is shown.
  function draw(data) {
    const image = shown.image;
    const frame = image.parentElement;
    if (!canvas) {
      canvas = el('canvas', 'explain-heatmap');
      canvas.id = 'explain-heatmap';
      canvas.setAttribute('aria-hidden', 'true');
      frame.append(canvas);
    }
    const rows = data.heatmap.length;
    const cols = rows ? data.heatmap[0].length : 0;
    canvas.width = cols;
    canvas.height = rows;
    canvas.dataset.method = data.method;
    canvas.dataset.target = String(data.target.index);
    const ctx = canvas.getContext('2d');
    const pixels = ctx.createImageData(cols, rows);
    data.heatmap.forEach((row, i) => row.forEach((v, j) => {
      const [r, g, b] = colour(v);
      pixels.data.set([r, g, b, 255], (i * cols + j) * 4);
    }));
    ctx.putImageData(pixels, 0, 0);
    place();
    const opacity = document.getElementById('explain-opacity');
    canvas.style.opacity = String((opacity ? opacity.value : 60) / 100);
  }

  function place() {
    if (!canvas || !shown) return;
    const image = shown.image;
    canvas.style.left = `${image.offsetLeft}px`;
    canvas.style.top = `${image.offsetTop}px`;
    canvas.style.width = `${image.offsetWidth}px`;
    canvas.style.height = `${image.offsetHeight}px`;
  }

  window.addEventListener('resize', place);
  return { offer, clear };
})();
