// vitserve web page: pick a model, choose, drop or paste a photo (or give its URL) and show the top
// predictions, the scores of labels typed as chips (a zero-shot model such as CLIP) or the image's embedding.
// Plain JS, no dependencies; talks to GET v1/models, GET v1/limits, POST v1/models/{name}/classify,
// POST v1/models/{name}/zero-shot and POST v1/models/{name}/embed on the same origin.
'use strict';

(() => {
  const TOP_K = 5;
  /** Hugging Face's zero-shot-image-classification pipeline's default template. */
  const DEFAULT_TEMPLATE = 'This is a photo of {}.';
  const DEFAULT_LABELS = ['cat', 'dog', 'bird', 'car', 'coffee'];
  /** The server's limits of a zero-shot request (ZeroShotRequest): labels, characters of a label or the template. */
  const MAX_LABELS = 100;
  const MAX_TEXT_CHARS = 300;

  const $ = (id) => document.getElementById(id);
  const els = {
    modelInfo: $('model-info'), dropZone: $('drop-zone'), fileInput: $('file-input'),
    urlForm: $('url-form'), urlInput: $('url-input'), urlSubmit: $('url-submit'),
    sizeLimit: $('size-limit'), error: $('error'), resultCard: $('result-card'), preview: $('preview'), previewImage: $('preview-image'),
    previewCaption: $('preview-caption'), status: $('status'), results: $('results'), timings: $('timings'),
    modelPicker: $('model-picker'), modelSelect: $('model-select'), modelCount: $('model-count'),
    normalize: $('normalize'), urlSubmitText: $('url-submit-text'),
    zeroShot: $('zero-shot'), chips: $('chips'), chipsBox: $('chips-box'), labelInput: $('label-input'),
    labelStatus: $('label-status'), templateInput: $('template-input'), templateReset: $('template-reset'),
    templateExample: $('template-example'), taskClassify: $('task-classify'), taskZeroShot: $('task-zero-shot'),
    dropTouchTitle: $('drop-touch-title'),
  };

  let inFlight = null;      // AbortController of the running request
  let previewUrl = null;    // object URL of the previewed file
  let maxBodyBytes = null;  // the server's --max-body-size, once GET v1/limits has answered
  let modelShown = false;
  let models = [];          // every model of GET v1/models, each with its name and state
  let chosen = null;        // the name of the model picked (the server's default one at first)
  let lastInput = null;     // the photo or address shown ({file} or {url}), sent again when the model or mode changes
  let labels = [...DEFAULT_LABELS];  // the zero-shot labels, in the order typed
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
    return `${Number((n / 1024 / 1024).toFixed(1))} MB`;
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

  const smoothScroll = () => !window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  function reveal(el) {
    const r = el.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight - 80) {
      el.scrollIntoView({ block: 'start', behavior: smoothScroll() ? 'smooth' : 'auto' });
    }
  }

  // ---- model information ----------------------------------------------------------------------

  function renderModelInfo(info) {
    const size = info.image_size && info.image_size.width && info.image_size.height
      ? `${info.image_size.width} × ${info.image_size.height} px` : null;
    const labels = isZeroShot(info) ? 'zero-shot: labels you type'
      : typeof info.labels === 'number' ? `${info.labels.toLocaleString('en')} labels` : null;
    const width = typeof info.embedding_size === 'number' ? info.embedding_size : info.hidden_size;
    const embedding = typeof width === 'number' ? `${width}-value embedding` : null;
    const shape = [labels, embedding].filter(Boolean).join(' · ') || null;
    const notReady = info.state && info.state !== 'ready';
    const facts = [
      ['state', 'State', notReady ? info.state : null, info.status],
      ['model', 'Model', info.model, info.weights],
      ['backend', 'Backend', info.backend, info.engine],
      ['device', 'Device', info.device, info.device_detail],
      ['input', 'Input', size || shape, size && shape],
    ].filter((f) => f[2] !== undefined && f[2] !== null && f[2] !== '');
    if (!facts.length) return false;
    const dl = node('dl', 'model-facts');
    for (const [field, name, value, detail] of facts) {
      const item = node('div', `fact-${field}`);
      const dd = node('dd', null, value);
      dd.dataset.field = field;
      if (field === 'state') dd.dataset.state = value;
      if (detail && typeof detail !== 'object') dd.append(node('span', 'detail', detail));
      item.append(node('dt', null, name), dd);
      dl.append(item);
    }
    const parts = [dl];
    // what the model folder's card says the model is (e.g. that a test model's answers mean nothing)
    if (typeof info.description === 'string' && info.description.trim()) {
      const about = node('p', 'model-description');
      about.id = 'model-description';
      about.append(node('span', 'about', 'About'), node('span', 'about-text', info.description.trim()));
      parts.push(about);
    }
    els.modelInfo.replaceChildren(...parts);
    modelShown = true;
    return true;
  }

  async function loadModelInfo() {
    try {
      const res = await fetch('v1/models', { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      let info = await res.json();
      if (info && Array.isArray(info.data)) info = info.data[0] || {};
      if (info && Array.isArray(info.models) && info.models.length) {
        models = info.models;
        if (!chosen || !models.some((m) => m.name === chosen)) chosen = info.default || models[0].name;
        renderPicker();
        info = models.find((m) => m.name === chosen);
        applyModelTask(info);
      }
      if (!info || typeof info !== 'object' || !renderModelInfo(info)) throw new Error('empty');
    } catch (e) {
      if (!modelShown) els.modelInfo.replaceChildren(node('p', 'unavailable', 'Model information unavailable.'));
    }
  }

  // The model picker: every model of the server, the chosen one selected.
  function renderPicker() {
    const options = models.map((m) => {
      const option = node('option', null, m.state && m.state !== 'ready' ? `${m.name} (${m.state})` : m.name);
      option.value = m.name;
      option.selected = m.name === chosen;
      return option;
    });
    els.modelSelect.replaceChildren(...options);
    els.modelCount.textContent = models.length > 1 ? `${models.length} models on this server` : '';
    els.modelPicker.hidden = false;
  }

  // The routes of the chosen model (the default one's old routes while the list is unknown).
  function endpoint() {
    const base = chosen ? `v1/models/${encodeURIComponent(chosen)}` : 'v1';
    switch (task()) {
      case 'embed': return `${base}/embed?normalize=${els.normalize.checked}`;
      case 'zero-shot': return `${base}/zero-shot`;
      default: return `${base}/classify?top_k=${TOP_K}`;
    }
  }

  function task() {
    const picked = document.querySelector('input[name=task]:checked');
    return picked ? picked.value : 'classify';
  }

  // A model that scores labels given in the request (CLIP): GET v1/models says its task is zero-shot.
  function isZeroShot(info) {
    return !!info && typeof info.task === 'string' && info.task.startsWith('zero-shot');
  }

  // Offers the modes the model has: zero-shot for a CLIP model, classify for a classifier, embeddings for both.
  // A mode the model lacks is hidden and disabled; when it was the chosen one, the model's own mode takes over.
  function applyModelTask(info) {
    if (!info || typeof info.task !== 'string') return;
    const zeroShot = isZeroShot(info);
    const offer = (label, on) => {
      label.hidden = !on;
      label.querySelector('input').disabled = !on;
    };
    offer(els.taskClassify, !zeroShot);
    offer(els.taskZeroShot, zeroShot);
    const current = task();
    if (zeroShot && current === 'classify') pickTask('zero-shot');
    else if (!zeroShot && current === 'zero-shot') pickTask('classify');
    showTask();
  }

  function pickTask(value) {
    const radio = document.querySelector(`input[name=task][value="${value}"]`);
    if (radio) radio.checked = true;
  }

  // What the page says in each mode: the phone's drop title, the placeholder, the button, the busy status.
  const MODE_TEXT = {
    classify: { touch: 'Choose a photo to classify', empty: 'Choose, drop or paste a photo to see what the model thinks it shows.',
      button: 'Classify', busy: 'Classifying' },
    'zero-shot': { touch: 'Choose a photo to score against the labels',
      empty: 'Choose, drop or paste a photo to see how well each label fits it.', button: 'Score', busy: 'Scoring the labels for' },
    embed: { touch: 'Choose a photo to embed', empty: 'Choose, drop or paste a photo to see its embedding.', button: 'Embed',
      busy: 'Computing the embedding of' },
  };
  const modeText = () => MODE_TEXT[task()] || MODE_TEXT.classify;

  // The server's limits: the largest file it takes is shown in the hint and checked before sending.
  async function loadLimits() {
    try {
      const res = await fetch('v1/limits', { headers: { Accept: 'application/json' } });
      if (!res.ok) return;
      const limits = await res.json();
      if (limits && Number.isFinite(limits.max_body_bytes) && limits.max_body_bytes > 0) {
        maxBodyBytes = limits.max_body_bytes;
        els.sizeLimit.textContent = `, up to ${formatBytes(maxBodyBytes)}`;
      }
    } catch (e) {
      // no limits known: the hint names none and the server has the final word
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
  }

  const UPLOAD_INSTEAD = 'Download the image and upload the file here instead.';

  // What each error code the server can answer (README's error table) means for someone using this page.
  const CODE_MESSAGES = {
    empty_body: 'That file is empty, so there is nothing to classify.',
    empty_image: 'That image has no pixels, so there is nothing to classify.',
    no_file: 'No file arrived at the server. Choose the photo again.',
    invalid_url: 'That image address wasn\'t accepted. Check that it is a full http:// or https:// link.',
    invalid_json: 'The server couldn\'t read the request this page sent. Reload the page and try again.',
    invalid_base64: 'The server couldn\'t read the request this page sent. Reload the page and try again.',
    invalid_parameter: 'The server refused a setting this page sent. Reload the page and try again.',
    missing_field: 'The server couldn\'t find the image in the request. Choose the photo again.',
    missing_parameter: 'The server couldn\'t find the image in the request. Choose the photo again.',
    bad_request: 'The server couldn\'t read the request. Try again, or try another photo.',
    unauthorized: 'This server requires an API key, so it won\'t classify images from this page.',
    url_not_allowed: 'This server doesn\'t fetch images from that address: private, loopback and local network addresses '
      + `(and any site it isn't set up to allow) are never fetched. ${UPLOAD_INSTEAD}`,
    url_fetch_disabled: `This server doesn't download images from web addresses. ${UPLOAD_INSTEAD}`,
    origin_not_allowed: 'This server doesn\'t accept requests from the address this page was opened at.',
    not_found: 'The classification service wasn\'t found on this server.',
    method_not_allowed: 'The classification service wasn\'t found on this server.',
    body_too_large: 'That file is larger than this server accepts. Try a smaller one.',
    too_many_pixels: 'That image has more pixels than this server accepts. Try a smaller one.',
    image_too_complex: 'That image is saved in a way that costs far more to read than its size (a JPEG of very many scans). '
      + 'Save it again as an ordinary JPEG or PNG.',
    too_many_files: 'That was more files than this server takes at once. Choose one photo.',
    url_too_large: 'The image at that address is larger than this server accepts. Try a smaller one.',
    unsupported_format: 'That file isn\'t an image format the server can read. Try a JPEG, PNG or WebP photo.',
    corrupt_image: 'That image seems damaged or incomplete, so it couldn\'t be read.',
    decode_timeout: 'That image took too long to read, so the server stopped. Try a smaller or simpler one.',
    unsupported_media_type: 'That file isn\'t an image format the server can read. Try a JPEG, PNG or WebP photo.',
    internal_error: 'Something went wrong on the server. Please try again.',
    unknown_model: 'That model isn\'t on this server any more. Reload the page to see the models it has.',
    embeddings_unavailable: 'This model can\'t give embeddings as it is served (from an exported network). '
      + 'Classify instead, or pick another model.',
    url_fetch_failed: 'The image at that address couldn\'t be downloaded. Check the address, or upload the file instead.',
    url_timeout: 'Downloading the image from that address took too long. Try again, or upload the file instead.',
    no_labels: 'Add at least one label to score the photo against.',
    too_many_labels: `That is more labels than this server scores at once: keep at most ${MAX_LABELS}.`,
    label_too_long: `A label is longer than this server takes: keep each under ${MAX_TEXT_CHARS} characters.`,
    template_too_long: `The template is longer than this server takes: keep it under ${MAX_TEXT_CHARS} characters.`,
    invalid_template: 'The template needs one {} where each label goes, and no other braces.',
    wrong_task: 'This model doesn\'t do that. Pick another mode or another model.',
  };

  // Turns a failed answer into a sentence for people; the server's own message becomes the detail.
  function describeFailure(status, code, fromUrl, retryAfter) {
    if (status === 503 || status === 429) {
      const wait = retryAfter ? ` in ${retryAfter} second${retryAfter === 1 ? '' : 's'}` : ' in a moment';
      return code === 'not_ready' ? `The server is starting up or shutting down. Please try again${wait}.`
        : `The server is busy. Please try again${wait}.`;
    }
    if (code && Object.prototype.hasOwnProperty.call(CODE_MESSAGES, code)) return CODE_MESSAGES[code];
    switch (status) {
      case 400: return fromUrl ? CODE_MESSAGES.invalid_url : 'The server couldn\'t accept this request.';
      case 401: return CODE_MESSAGES.unauthorized;
      case 403: return fromUrl ? CODE_MESSAGES.url_not_allowed : 'This server refused the request.';
      case 404: case 405: return CODE_MESSAGES.not_found;
      case 413: return 'That image is too large for this server (file size or number of pixels). Try a smaller one.';
      case 415: return CODE_MESSAGES.unsupported_format;
      case 502: return fromUrl ? CODE_MESSAGES.url_fetch_failed : 'The server couldn\'t complete the request.';
      case 504: return fromUrl ? CODE_MESSAGES.url_timeout : 'The server took too long to answer.';
      default: return status >= 500 ? CODE_MESSAGES.internal_error : 'The image couldn\'t be classified.';
    }
  }

  // ---- preview --------------------------------------------------------------------------------

  // Shows the photo (src: an object URL of the file), or only a placeholder when src is null: an image
  // at another site's address is never loaded by the page, which its Content-Security-Policy forbids.
  function showPreview(src, alt, caption, placeholderTitle, placeholderText) {
    const img = els.previewImage;
    const frame = img.parentElement;
    const placeholder = () => {
      img.classList.add('is-broken');
      const box = node('div', 'preview-placeholder');
      box.append(node('strong', null, placeholderTitle), node('span', null, placeholderText));
      frame.prepend(box);
    };
    frame.querySelectorAll('.preview-placeholder').forEach((p) => p.remove());
    img.classList.remove('is-broken');
    img.alt = alt;
    els.previewCaption.textContent = caption;
    img.onload = () => {
      if (img.naturalWidth) els.previewCaption.textContent = `${caption} · ${img.naturalWidth} × ${img.naturalHeight} px`;
    };
    img.onerror = () => {
      if (img.getAttribute('src')) placeholder();
    };
    if (src) {
      img.src = src;
    } else {
      img.removeAttribute('src');
      placeholder();
    }
    els.preview.hidden = false;
  }

  // ---- classification -------------------------------------------------------------------------

  function setBusy(busy, what) {
    els.urlSubmit.disabled = busy;
    els.urlSubmit.classList.toggle('is-busy', busy);
    els.resultCard.classList.toggle('is-busy', busy);
    els.results.setAttribute('aria-busy', String(busy));
    els.status.textContent = busy ? `${modeText().busy} ${what}…` : '';
  }

  // One row per prediction: its label and score, and a bar as long as the score.
  function predictionList(preds) {
    const list = node('ol', 'predictions');
    preds.forEach((p, i) => {
      const li = node('li', i === 0 ? 'prediction is-top' : 'prediction');
      li.dataset.score = String(p.score);  // the server's score, unrounded
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
    return list;
  }

  function renderResults(data, result) {
    const preds = result.predictions.slice(0, TOP_K);
    els.results.replaceChildren(node('h3', 'results-title', `Top ${preds.length} prediction${preds.length === 1 ? '' : 's'}`),
      predictionList(preds));
    renderTimings(data, result);
  }

  // Every label with its score, best first (the server sorts them; so does the page, in case it did not).
  function renderZeroShot(data, result) {
    const preds = [...result.predictions].sort((a, b) => (Number(b.score) || 0) - (Number(a.score) || 0));
    const list = predictionList(preds);
    list.id = 'zero-shot-scores';
    const title = node('h3', 'results-title', `${preds.length} label${preds.length === 1 ? '' : 's'} by score`);
    const template = typeof data.hypothesis_template === 'string' ? data.hypothesis_template : null;
    const parts = [title, list];
    if (template) {
      const note = node('p', 'scores-note', 'Each label scored as “');
      note.append(node('code', null, template), '”; the scores add up to 100 %.');
      parts.push(note);
    }
    els.results.replaceChildren(...parts);
    renderTimings(data, result);
  }

  // The embedding: its size, its first values, and a button that copies the whole vector as JSON.
  function renderEmbedding(data, result) {
    const vector = result.embedding;
    const first = vector.slice(0, 8).map((v) => Number(v).toFixed(4)).join(', ');
    const copy = node('button', 'button', 'Copy as JSON');
    copy.type = 'button';
    copy.id = 'copy-embedding';
    const copied = node('span', 'copy-status');
    copied.setAttribute('role', 'status');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(JSON.stringify(vector));
        copied.textContent = `Copied ${vector.length} values.`;
      } catch (e) {
        copied.textContent = 'Copying isn\'t allowed here; select the values instead.';
      }
    });
    const size = node('p', 'embedding-size', `${vector.length} values${data.normalized ? ', unit length' : ''}`);
    size.id = 'embedding-size';
    const values = node('p', 'embedding-values', `[${first}${vector.length > 8 ? ', …' : ''}]`);
    values.id = 'embedding-values';
    const actions = node('p');
    actions.append(copy, copied);
    els.results.replaceChildren(node('h3', 'results-title', 'Embedding'), size, values, actions);
    renderTimings(data, result);
  }

  function renderTimings(data, result) {
    // The server's steps, and "other": the rest of its total (reading the upload or downloading the
    // URL, handing the image between threads, writing the answer).
    const t = result.timing_ms || {};
    // A zero-shot answer adds "text": the labels' run through the text tower, beside the image's.
    const steps = ['decode', 'preprocess', 'queue', 'inference'];
    const known = steps.every((k) => typeof t[k] === 'number') && typeof t.total === 'number';
    const times = { ...t, other: known ? Math.max(0, t.total - steps.reduce((sum, k) => sum + t[k], 0)) : undefined };
    const text = typeof t.text === 'number' ? ['text'] : [];
    const dl = node('dl', 'timing-list');
    for (const key of [...steps, ...text, 'other', 'total']) {
      const item = node('div', key);
      const dd = node('dd', null, formatMs(times[key]));
      dd.dataset.field = key;
      item.append(node('dt', null, key[0].toUpperCase() + key.slice(1)), dd);
      dl.append(item);
    }
    // the model by the name it was picked by (the answer's model may be its folder)
    const run = [chosen || data.model, data.backend, data.device].filter(Boolean).join(' · ');
    els.timings.replaceChildren(node('h3', 'results-title', 'Time on the server'), dl,
      node('p', 'timing-note', 'Queue is the wait for the model to be free; inference is the model\'s run '
        + (result.batch_size > 1 ? `for a batch of ${result.batch_size} images` : 'for this image')
        + (text.length ? '; text is the labels\' run through the text tower, beside the image\'s and not part of the total' : '')
        + '. Other is the rest of the total: reading the upload or downloading the image, passing it between '
        + 'threads, writing the answer. The transfer over the network comes on top.'));
    if (run) {
      const info = node('p', 'run-info', `Answered by ${run}`);
      info.id = 'run-info';
      els.timings.append(info);
    }
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
      lastInput = null;
      emptyState.textContent = modeText().empty;
      els.results.replaceChildren(emptyState);
    }
  }

  // Cancels the running request, if any: the newest choice always wins.
  function abortRunning() {
    if (!inFlight) return;
    inFlight.abort();
    inFlight = null;
    setBusy(false);
  }

  // The request for the input in the chosen mode: a file as it is (classify, embed) or as a multipart upload with
  // the labels and template as form fields (zero-shot: no query string to outgrow); an address as JSON.
  function request(input) {
    const zeroShot = task() === 'zero-shot';
    const headers = { Accept: 'application/json' };
    if (input.url) {
      const json = { url: input.url };
      if (zeroShot) Object.assign(json, { candidate_labels: labels, hypothesis_template: template() });
      return { body: JSON.stringify(json), headers: { ...headers, 'Content-Type': 'application/json' } };
    }
    if (!zeroShot) {
      return { body: input.file, headers: { ...headers, 'Content-Type': input.file.type || 'application/octet-stream' } };
    }
    const form = new FormData();
    form.append('image', input.file, input.file.name || 'pasted image');
    labels.forEach((label) => form.append('candidate_labels', label));
    form.append('hypothesis_template', template());
    return { body: form, headers };  // the browser sets multipart/form-data with its boundary
  }

  // Sends the input ({file} or {url}, and `what` to name it) in the chosen mode and shows the answer.
  async function classify(input) {
    const { what } = input;
    const fromUrl = !!input.url;
    lastInput = input;
    clearMessages();
    abortRunning();
    clearResults(true);
    if (task() === 'zero-shot' && !zeroShotReady()) return;
    const ctrl = new AbortController();
    inFlight = ctrl;
    setBusy(true, what);
    try {
      let res;
      try {
        const { body, headers } = request(input);
        res = await fetch(endpoint(), { method: 'POST', body, signal: ctrl.signal, headers });
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
      const mode = task();
      if (!result || !Array.isArray(mode === 'embed' ? result.embedding : result.predictions)) {
        throw failure('The server\'s answer couldn\'t be understood.', `HTTP ${res.status}`);
      }
      if (mode === 'embed') {
        renderEmbedding(data, result);
        // on a phone the vector is below the photo: bring it into view, not only the card's top
        els.results.scrollIntoView({ block: 'nearest', behavior: smoothScroll() ? 'smooth' : 'auto' });
      } else {
        if (mode === 'zero-shot') renderZeroShot(data, result);
        else renderResults(data, result);
        reveal(els.resultCard);
      }
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
    showPreview(previewUrl, `The photo: ${name}`, `${name} · ${formatBytes(file.size)}`, name,
      'Your browser can\'t show a preview of this file.');
    classify({ file, what: name });
  }

  function handleFile(file) {
    clearMessages();
    abortRunning();
    els.urlInput.value = '';
    els.urlInput.removeAttribute('aria-invalid');
    if (file.type && !file.type.startsWith('image/')) {
      clearResults(false);
      showError('That file doesn\'t look like an image. Choose a photo such as a JPEG, PNG or WebP file.',
        `“${file.name}” is of type ${file.type}.`, 'not_an_image');
      return;
    }
    if (maxBodyBytes !== null && file.size > maxBodyBytes) {
      clearResults(false);
      showError(`That file is too large for this server: it takes files up to ${formatBytes(maxBodyBytes)}. Try a smaller one.`,
        `“${file.name}” is ${formatBytes(file.size)}.`, 'body_too_large');
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
    showPreview(null, `The image at ${url.href}`, url.href, `Image from ${url.hostname}`,
      'Images from other sites aren\'t previewed here.');
    classify({ url: url.href, what: `the image from ${url.hostname}` });
  }

  // ---- zero-shot labels and template ----------------------------------------------------------

  const template = () => els.templateInput.value;

  // The template with the label in place of {} (or {0}), {{ and }} standing for braces, as Python's
  // str.format and the server read it; null when the server would refuse it.
  function fillTemplate(text, label) {
    let out = '';
    let places = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '{' && text.startsWith('{{', i)) { out += '{'; i++; }
      else if (c === '}' && text.startsWith('}}', i)) { out += '}'; i++; }
      else if (c === '{' && (text.startsWith('{}', i) || text.startsWith('{0}', i))) {
        out += label;
        i += text[i + 1] === '}' ? 1 : 2;
        places++;
      } else if (c === '{' || c === '}') return null;
      else out += c;
    }
    return places ? out : null;
  }

  function announce(text) {
    els.labelStatus.textContent = text;
  }

  function renderChips() {
    const chips = labels.map((label, i) => {
      const li = node('li', 'chip-item');
      const chip = node('button', 'chip');
      chip.type = 'button';
      chip.dataset.index = String(i);
      chip.setAttribute('aria-label', `Remove ${label}`);
      chip.append(node('span', 'chip-text', label));
      const x = node('span', 'chip-x', '×');
      x.setAttribute('aria-hidden', 'true');
      chip.append(x);
      li.append(chip);
      return li;
    });
    els.chips.replaceChildren(...chips);
    els.chips.hidden = !labels.length;
    showTemplateExample();
  }

  function showTemplateExample() {
    const filled = fillTemplate(template(), labels[0] || 'cat');
    const bad = filled === null;
    if (bad) els.templateInput.setAttribute('aria-invalid', 'true');
    else els.templateInput.removeAttribute('aria-invalid');
    els.templateExample.textContent = bad ? 'the template needs one {} and no other braces' : filled;
    els.templateExample.parentElement.classList.toggle('is-invalid', bad);
  }

  // Adds the typed labels (a comma separates several); true when the list changed.
  function addLabels(text) {
    let added = 0;
    for (const raw of text.split(',')) {
      const label = raw.trim();
      if (!label) continue;
      if (labels.includes(label)) { announce(`${label} is already a label.`); continue; }
      if (labels.length >= MAX_LABELS) { announce(`At most ${MAX_LABELS} labels.`); break; }
      labels.push(label.slice(0, MAX_TEXT_CHARS));
      added++;
    }
    if (!added) return false;
    renderChips();
    announce(added === 1 ? `Added ${labels[labels.length - 1]}. ${labels.length} labels.` : `Added ${added} labels. ${labels.length} labels.`);
    return true;
  }

  function removeLabel(index) {
    const [gone] = labels.splice(index, 1);
    renderChips();
    announce(`Removed ${gone}. ${labels.length ? `${labels.length} label${labels.length === 1 ? '' : 's'} left.` : 'No labels left.'}`);
  }

  // Labels or template changed: score the shown photo again.
  function labelsChanged() {
    if (lastInput && task() === 'zero-shot') classify(lastInput);
  }

  // Before a zero-shot request: a label typed but not yet added counts, and an empty list or a refused
  // template is said here rather than sent.
  function zeroShotReady() {
    if (els.labelInput.value.trim()) {
      addLabels(els.labelInput.value);
      els.labelInput.value = '';
    }
    if (!labels.length) {
      showError(CODE_MESSAGES.no_labels, 'Type a label and press Enter, or separate several with commas.', 'no_labels');
      return false;
    }
    if (fillTemplate(template(), '') === null) {
      showError(CODE_MESSAGES.invalid_template, `“${template()}” can't take a label. The default is “${DEFAULT_TEMPLATE}”.`,
        'invalid_template');
      return false;
    }
    return true;
  }

  els.labelInput.addEventListener('keydown', (e) => {
    if (e.isComposing) return;
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      if (addLabels(els.labelInput.value)) labelsChanged();
      els.labelInput.value = '';
    } else if (e.key === 'Backspace' && !els.labelInput.value && labels.length) {
      e.preventDefault();
      removeLabel(labels.length - 1);
      labelsChanged();
    }
  });
  // Phone keyboards may not report the comma key: split what was typed or pasted at its commas.
  els.labelInput.addEventListener('input', () => {
    const value = els.labelInput.value;
    const cut = value.lastIndexOf(',');
    if (cut < 0) return;
    els.labelInput.value = value.slice(cut + 1);
    if (addLabels(value.slice(0, cut))) labelsChanged();
  });
  // A click on a label (or Enter, Space, Backspace or Delete on it) removes it; the keyboard keeps its place:
  // the next label, the previous one for Backspace, or the field when none is left.
  function removeChip(chip, back) {
    const index = Number(chip.dataset.index);
    removeLabel(index);
    const left = els.chips.querySelectorAll('button.chip');
    const next = left[back ? index - 1 : Math.min(index, left.length - 1)];
    (next || els.labelInput).focus();
    labelsChanged();
  }
  els.chips.addEventListener('click', (e) => {
    const chip = e.target.closest('button.chip');
    if (chip) removeChip(chip, false);
  });
  els.chips.addEventListener('keydown', (e) => {
    const chip = e.target.closest('button.chip');
    if (!chip || (e.key !== 'Backspace' && e.key !== 'Delete')) return;
    e.preventDefault();
    removeChip(chip, e.key === 'Backspace');
  });
  // A click in the box's free space types in the field.
  els.chipsBox.addEventListener('click', (e) => {
    if (e.target === els.chipsBox || e.target === els.chips) els.labelInput.focus();
  });
  els.templateInput.addEventListener('input', showTemplateExample);
  els.templateInput.addEventListener('change', labelsChanged);
  els.templateInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); labelsChanged(); }
  });
  els.templateReset.addEventListener('click', () => {
    if (template() === DEFAULT_TEMPLATE) return;
    els.templateInput.value = DEFAULT_TEMPLATE;
    showTemplateExample();
    labelsChanged();
  });
  renderChips();

  // ---- wiring ---------------------------------------------------------------------------------

  // Another model: its modes, and the shown photo sent again to it (rather than a blank result card).
  els.modelSelect.addEventListener('change', () => {
    chosen = els.modelSelect.value;
    abortRunning();
    clearMessages();
    const info = models.find((m) => m.name === chosen);
    if (info) {
      renderModelInfo(info);
      applyModelTask(info);
    }
    if (lastInput) classify(lastInput);
    else clearResults(false);
    loadModelInfo();
  });

  function showTask() {
    const text = modeText();
    els.urlSubmitText.textContent = text.button;
    els.dropTouchTitle.textContent = text.touch;
    if (!lastInput && els.results.contains(emptyState)) emptyState.textContent = text.empty;
    els.normalize.parentElement.hidden = task() !== 'embed';
    els.zeroShot.hidden = task() !== 'zero-shot';
  }
  document.querySelectorAll('input[name=task]').forEach((r) => r.addEventListener('change', () => {
    showTask();
    if (lastInput) classify(lastInput);
    else clearResults(false);
  }));
  els.normalize.addEventListener('change', () => {
    if (lastInput && task() === 'embed') classify(lastInput);
  });
  showTask();

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
  loadLimits();
})();
