// vitserve web page: choose, drop or paste a photo (or give its URL) and show the top predictions.
// Plain JS, no dependencies; talks to GET v1/models and POST v1/classify on the same origin.
'use strict';

(() => {
  const TOP_K = 5;
  const WARN_BYTES = 20 * 1024 * 1024;

  const $ = (id) => document.getElementById(id);
  const els = {
    modelInfo: $('model-info'), dropZone: $('drop-zone'), fileInput: $('file-input'),
    urlForm: $('url-form'), urlInput: $('url-input'), urlSubmit: $('url-submit'),
    notice: $('notice'), noticeText: $('notice-text'), noticeSend: $('notice-send'), noticeCancel: $('notice-cancel'),
    error: $('error'), resultCard: $('result-card'), preview: $('preview'), previewImage: $('preview-image'),
    previewCaption: $('preview-caption'), status: $('status'), results: $('results'), timings: $('timings'),
  };

  let inFlight = null;      // AbortController of the running request
  let previewUrl = null;    // object URL of the previewed file
  let pendingFile = null;   // a large file waiting for "Send anyway"
  let modelShown = false;
  const emptyState = els.results.querySelector('.empty');  // the placeholder shown before any result

  // ---- small helpers --------------------------------------------------------------------------

  function node(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function formatBytes(n) {
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function formatPercent(score) {
    const pct = Math.min(Math.max(Number(score) || 0, 0), 1) * 100;
    return pct > 0 && pct < 0.05 ? '< 0.1 %' : `${pct.toFixed(1)} %`;
  }

  function formatMs(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '—';
    return ms < 1000 ? `${ms.toFixed(1)} ms` : `${Math.round(ms).toLocaleString('en')} ms`;
  }

  // An Error that carries a sentence for people, a technical detail and the server's error code.
  function failure(title, detail, code) {
    return Object.assign(new Error(title), { title, detail, code });
  }

  function reveal(el) {
    const r = el.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight - 80) {
      const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
      el.scrollIntoView({ block: 'start', behavior: smooth ? 'smooth' : 'auto' });
    }
  }

  // ---- model information ----------------------------------------------------------------------

  function renderModelInfo(info) {
    const size = info.image_size && info.image_size.width && info.image_size.height
      ? `${info.image_size.width} × ${info.image_size.height} px` : null;
    const labels = typeof info.labels === 'number' ? `${info.labels.toLocaleString('en')} labels` : null;
    const facts = [
      ['model', 'Model', info.model, info.weights],
      ['backend', 'Backend', info.backend, info.engine],
      ['device', 'Device', info.device, info.device_detail],
      ['input', 'Input', size || labels, size && labels],
    ].filter((f) => f[2] !== undefined && f[2] !== null && f[2] !== '');
    if (!facts.length) return false;
    const dl = node('dl', 'model-facts');
    for (const [field, name, value, detail] of facts) {
      const item = node('div', `fact-${field}`);
      const dd = node('dd', null, value);
      dd.dataset.field = field;
      if (detail && typeof detail !== 'object') dd.append(node('span', 'detail', detail));
      item.append(node('dt', null, name), dd);
      dl.append(item);
    }
    els.modelInfo.replaceChildren(dl);
    modelShown = true;
    return true;
  }

  async function loadModelInfo() {
    try {
      const res = await fetch('v1/models', { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      let info = await res.json();
      if (info && Array.isArray(info.data)) info = info.data[0] || {};
      if (!info || typeof info !== 'object' || !renderModelInfo(info)) throw new Error('empty');
    } catch (e) {
      if (!modelShown) els.modelInfo.replaceChildren(node('p', 'unavailable', 'Model information unavailable.'));
    }
  }

  // ---- messages -------------------------------------------------------------------------------

  function showError(title, detail, code) {
    const parts = [node('p', 'message-title', title)];
    if (detail) parts.push(node('p', 'message-detail', detail));
    els.error.replaceChildren(...parts);
    els.error.dataset.code = code || '';
    els.error.hidden = false;
    reveal(els.error);
  }

  function clearMessages() {
    els.error.hidden = true;
    els.error.replaceChildren();
    els.notice.hidden = true;
    pendingFile = null;
  }

  // Turns a failed answer into a sentence for people; the server's own message becomes the detail.
  function describeFailure(status, code, fromUrl, retryAfter) {
    switch (status) {
      case 400: return fromUrl ? 'That image address wasn\'t accepted. Check that it is a full http:// or https:// link.'
        : 'The server couldn\'t accept this request.';
      case 401: return 'This server requires an API key, so it won\'t classify images from this page.';
      case 403: return 'You are not allowed to classify images on this server.';
      case 404: return 'The classification service wasn\'t found on this server.';
      case 413: return 'That image is too large for this server (file size or number of pixels). Try a smaller one.';
      case 415:
        if (code === 'empty_body') return 'That file is empty, so there is nothing to classify.';
        if (code === 'corrupt_image') return 'That image seems damaged or incomplete, so it couldn\'t be read.';
        return 'That file isn\'t an image format the server can read. Try a JPEG, PNG or WebP photo.';
      case 429:
      case 503: {
        const wait = retryAfter ? ` in ${retryAfter} second${retryAfter === 1 ? '' : 's'}` : ' in a moment';
        return `The server is busy or still starting up. Please try again${wait}.`;
      }
      case 502: return fromUrl ? 'The image at that address couldn\'t be downloaded.'
        : 'The server couldn\'t complete the request.';
      case 504: return fromUrl ? 'Downloading the image from that address took too long.'
        : 'The server took too long to answer.';
      default: return status >= 500 ? 'Something went wrong on the server. Please try again.'
        : 'The image couldn\'t be classified.';
    }
  }

  // ---- preview --------------------------------------------------------------------------------

  function showPreview(src, alt, caption, placeholderTitle, placeholderText) {
    const img = els.previewImage;
    const frame = img.parentElement;
    frame.querySelectorAll('.preview-placeholder').forEach((p) => p.remove());
    img.classList.remove('is-broken');
    img.alt = alt;
    els.previewCaption.textContent = caption;
    img.onload = () => {
      if (img.naturalWidth) els.previewCaption.textContent = `${caption} · ${img.naturalWidth} × ${img.naturalHeight} px`;
    };
    img.onerror = () => {
      if (!img.getAttribute('src')) return;
      img.classList.add('is-broken');
      const box = node('div', 'preview-placeholder');
      box.append(node('strong', null, placeholderTitle), node('span', null, placeholderText));
      frame.prepend(box);
    };
    img.src = src;
    els.preview.hidden = false;
  }

  // ---- classification -------------------------------------------------------------------------

  function setBusy(busy, what) {
    els.urlSubmit.disabled = busy;
    els.urlSubmit.classList.toggle('is-busy', busy);
    els.resultCard.classList.toggle('is-busy', busy);
    els.results.setAttribute('aria-busy', String(busy));
    els.status.textContent = busy ? `Classifying ${what}…` : '';
  }

  function renderResults(data, result) {
    const preds = result.predictions.slice(0, TOP_K);
    const list = node('ol', 'predictions');
    preds.forEach((p, i) => {
      const li = node('li', i === 0 ? 'prediction is-top' : 'prediction');
      const text = node('div', 'prediction-text');
      const label = p.label !== undefined && p.label !== null ? p.label : `class ${p.index}`;
      text.append(node('span', 'label', label), node('span', 'score', formatPercent(p.score)));
      const bar = node('div', 'bar');
      bar.setAttribute('aria-hidden', 'true');
      const fill = node('span', 'bar-fill');
      fill.style.setProperty('--score', String(Math.min(Math.max(Number(p.score) || 0, 0), 1)));
      bar.append(fill);
      li.append(text, bar);
      list.append(li);
    });
    els.results.replaceChildren(node('h3', 'results-title', `Top ${preds.length} prediction${preds.length === 1 ? '' : 's'}`), list);

    const t = result.timing_ms || {};
    const dl = node('dl', 'timing-list');
    for (const key of ['decode', 'preprocess', 'inference', 'total']) {
      const item = node('div', key);
      const dd = node('dd', null, formatMs(t[key]));
      dd.dataset.field = key;
      item.append(node('dt', null, key[0].toUpperCase() + key.slice(1)), dd);
      dl.append(item);
    }
    const run = [data.model, data.backend, data.device].filter(Boolean).join(' · ');
    els.timings.replaceChildren(dl);
    if (run) els.timings.append(node('p', 'run-info', `Answered by ${run}`));
    els.timings.hidden = false;
    if (!modelShown) renderModelInfo({ model: data.model, backend: data.backend, device: data.device });
  }

  function clearResults(keepPreview) {
    els.results.replaceChildren();
    els.timings.hidden = true;
    els.timings.replaceChildren();
    if (!keepPreview) {
      els.preview.hidden = true;
      els.previewImage.removeAttribute('src');
    }
  }

  // Cancels the running request, if any: the newest choice always wins.
  function abortRunning() {
    if (!inFlight) return;
    inFlight.abort();
    inFlight = null;
    setBusy(false);
  }

  async function classify(body, contentType, what, fromUrl) {
    clearMessages();
    abortRunning();
    const ctrl = new AbortController();
    inFlight = ctrl;
    clearResults(true);
    setBusy(true, what);
    try {
      let res;
      try {
        res = await fetch(`v1/classify?top_k=${TOP_K}`, {
          method: 'POST', body, signal: ctrl.signal,
          headers: { 'Content-Type': contentType, Accept: 'application/json' },
        });
      } catch (e) {
        if (ctrl.signal.aborted) return;
        throw failure('Couldn\'t reach the vitserve server. Check that it is running and try again.');
      }
      const text = await res.text();
      let data = null;
      try { data = JSON.parse(text); } catch (e) { /* not JSON: handled below */ }
      if (ctrl.signal.aborted) return;
      if (!res.ok) {
        const err = data && data.error && typeof data.error === 'object' ? data.error : {};
        const retry = parseInt(res.headers.get('Retry-After') || '', 10);
        const message = typeof err.message === 'string' ? err.message : '';
        throw failure(describeFailure(res.status, err.code, fromUrl, retry > 0 ? retry : 0),
          message ? `Details: ${message} (HTTP ${res.status})` : `HTTP ${res.status} ${res.statusText}`.trim(), err.code);
      }
      const result = data && Array.isArray(data.results) ? data.results[0] : null;
      if (!result || !Array.isArray(result.predictions)) {
        throw failure('The server\'s answer couldn\'t be understood.', `HTTP ${res.status}`);
      }
      renderResults(data, result);
      reveal(els.resultCard);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      clearResults(true);
      if (err.title) showError(err.title, err.detail, err.code);
      else showError('The image couldn\'t be classified.', `Details: ${err.message}`);
    } finally {
      if (inFlight === ctrl) {
        inFlight = null;
        setBusy(false);
      }
    }
  }

  function sendFile(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    const name = file.name || 'pasted image';
    showPreview(previewUrl, `The photo to classify: ${name}`, `${name} · ${formatBytes(file.size)}`, name,
      'Your browser can\'t show a preview of this file.');
    classify(file, file.type || 'application/octet-stream', name, false);
  }

  function handleFile(file) {
    clearMessages();
    abortRunning();
    if (file.type && !file.type.startsWith('image/')) {
      clearResults(false);
      showError('That file doesn\'t look like an image. Choose a photo such as a JPEG, PNG or WebP file.',
        `“${file.name}” is of type ${file.type}.`, 'not_an_image');
      return;
    }
    if (file.size > WARN_BYTES) {
      pendingFile = file;
      clearResults(false);
      if (emptyState) els.results.replaceChildren(emptyState.cloneNode(true));
      els.noticeText.textContent = `“${file.name}” is a large file (${formatBytes(file.size)}).`;
      els.notice.hidden = false;
      reveal(els.notice);
      els.noticeSend.focus();
      return;
    }
    sendFile(file);
  }

  function handleUrl(raw) {
    const value = raw.trim();
    let url = null;
    try { url = new URL(value); } catch (e) { /* invalid */ }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      clearMessages();
      abortRunning();
      clearResults(false);
      els.urlInput.setAttribute('aria-invalid', 'true');
      showError(value ? 'That doesn\'t look like a web address. Enter a full link starting with http:// or https://.'
        : 'Enter the address of an image first.', null, 'invalid_url');
      els.urlInput.focus();
      return;
    }
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    showPreview(url.href, `The image at ${url.href}`, url.href, `Image from ${url.hostname}`,
      'Images from other sites aren\'t previewed here.');
    classify(JSON.stringify({ url: url.href }), 'application/json', `the image from ${url.hostname}`, true);
  }

  // ---- wiring ---------------------------------------------------------------------------------

  els.fileInput.addEventListener('change', () => {
    const file = els.fileInput.files && els.fileInput.files[0];
    if (file) handleFile(file);
    els.fileInput.value = '';
  });

  els.dropZone.addEventListener('click', (e) => {
    if (e.target === els.fileInput || e.target.closest('label, button, a')) return;
    els.fileInput.click();
  });

  els.urlInput.addEventListener('input', () => els.urlInput.removeAttribute('aria-invalid'));
  els.urlForm.addEventListener('submit', (e) => {
    e.preventDefault();
    handleUrl(els.urlInput.value);
  });

  els.noticeSend.addEventListener('click', () => {
    const file = pendingFile;
    els.fileInput.focus();
    if (file) sendFile(file);
  });
  els.noticeCancel.addEventListener('click', () => {
    clearMessages();
    els.fileInput.focus();
  });

  // Drops work anywhere on the page, so a near miss never navigates away to the file.
  const hasPayload = (e) => e.dataTransfer && [...e.dataTransfer.types].some((t) => t === 'Files' || t === 'text/uri-list');
  document.addEventListener('dragover', (e) => {
    if (!hasPayload(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    els.dropZone.classList.add('is-dragover');
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) els.dropZone.classList.remove('is-dragover');
  });
  document.addEventListener('drop', (e) => {
    els.dropZone.classList.remove('is-dragover');
    if (!hasPayload(e)) return;
    e.preventDefault();
    const file = e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) { handleFile(file); return; }
    const uri = (e.dataTransfer.getData('text/uri-list') || '').split(/\r?\n/).find((l) => l && !l.startsWith('#'));
    if (uri) { els.urlInput.value = uri; handleUrl(uri); }
  });

  // Pasting an image anywhere classifies it; pasting a link outside a text field classifies that.
  document.addEventListener('paste', (e) => {
    const data = e.clipboardData;
    if (!data) return;
    const item = [...data.items].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    const file = item ? item.getAsFile() : null;
    if (file) { e.preventDefault(); handleFile(file); return; }
    const target = e.target;
    const inField = target instanceof HTMLElement && (target.closest('input, textarea') || target.isContentEditable);
    const text = (data.getData('text/plain') || '').trim();
    if (!inField && /^https?:\/\/\S+$/i.test(text)) {
      e.preventDefault();
      els.urlInput.value = text;
      handleUrl(text);
    }
  });

  loadModelInfo();
})();
