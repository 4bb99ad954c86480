// The ground station's Open MCT plugin. Everything it shows comes from the station it is served
// by: the tree from /api/dictionary (generated from the protobuf descriptors and the limit file),
// history from /api/history (the MCAP recordings), live samples over the /api/realtime
// WebSocket, and the operator views (traverse map, link status, alarms, commands) from the rest
// of the HTTP API. Loaded by index.html after openmct.js; defines window.LunarGroundStation and
// window.LunarGroundStationTime (the on-board time system and clock, installed before the time
// conductor, which checks the ones its menu names).
(function () {
  'use strict';

  const NAMESPACE = 'lgs';
  const TELEMETRY_TYPE = 'lgs.telemetry';
  const IMAGERY_TYPE = 'lgs.imagery';
  // The on-board time system: the time of the rover's clock (SCET) each datum carries beside the
  // ground receipt time (UTC), and the clock that follows it.
  const SCET = 'scet';
  const SCET_CLOCK = 'lgs.scet';
  const timeDomain = (openmct) => (openmct.time.getTimeSystem().key === SCET ? SCET : 'utc');

  async function getJson(url, init) {
    const response = await fetch(url, init);
    const text = await response.text();
    let body;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      throw new Error(`${url}: not JSON (${response.status})`);
    }
    if (!response.ok) {
      const error = new Error((body && body.error) || `${url}: HTTP ${response.status}`);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  function postJson(url, body) {
    return getJson(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([k, v]) => {
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : String(c)));
    return node;
  }

  // ---------------------------------------------------------------------------------------
  // Realtime: one WebSocket per page, shared by every subscription, reconnecting on loss.
  class RealtimeClient {
    constructor() {
      this.listeners = new Map(); // key -> Set of callbacks (each gets an array of datums)
      this.dropped = 0;
      this.connect();
    }

    connect() {
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      this.socket = new WebSocket(`${scheme}://${window.location.host}/api/realtime`);
      this.socket.onopen = () => {
        this.retry = 0;
        if (this.listeners.size > 0) this.send({ subscribe: [...this.listeners.keys()] });
      };
      this.socket.onmessage = (event) => this.receive(JSON.parse(event.data));
      this.socket.onclose = () => {
        this.retry = Math.min((this.retry || 0) + 1, 10);
        setTimeout(() => this.connect(), 500 * this.retry);
      };
    }

    send(message) {
      if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
    }

    receive(message) {
      if (message.type === 'error') {
        console.warn('realtime:', message.error, message.keys || '');
        return;
      }
      if (message.type !== 'data') return;
      this.dropped += message.dropped;
      const byKey = new Map();
      for (const datum of message.data) {
        if (!byKey.has(datum.key)) byKey.set(datum.key, []);
        byKey.get(datum.key).push(datum);
      }
      byKey.forEach((data, key) => {
        (this.listeners.get(key) || []).forEach((callback) => callback(data));
      });
    }

    subscribe(key, callback) {
      if (!this.listeners.has(key)) {
        this.listeners.set(key, new Set());
        this.send({ subscribe: [key] });
      }
      this.listeners.get(key).add(callback);
      return () => {
        const set = this.listeners.get(key);
        if (!set) return;
        set.delete(callback);
        if (set.size === 0) {
          this.listeners.delete(key);
          this.send({ unsubscribe: [key] });
        }
      };
    }
  }

  // ---------------------------------------------------------------------------------------
  // Limits: Open MCT's limit evaluator and plot limit lines from the dictionary's limits.
  function limitEvaluator(limits) {
    return {
      evaluate(datum, valueMetadata) {
        if (!limits || (valueMetadata && valueMetadata.key !== 'value')) return undefined;
        const v = datum.value;
        if (typeof v !== 'number') return undefined;
        if (limits.red_high !== undefined && v > limits.red_high)
          return { cssClass: 'is-limit--upr is-limit--red', name: 'Red High' };
        if (limits.red_low !== undefined && v < limits.red_low)
          return { cssClass: 'is-limit--lwr is-limit--red', name: 'Red Low' };
        if (limits.yellow_high !== undefined && v > limits.yellow_high)
          return { cssClass: 'is-limit--upr is-limit--yellow', name: 'Yellow High' };
        if (limits.yellow_low !== undefined && v < limits.yellow_low)
          return { cssClass: 'is-limit--lwr is-limit--yellow', name: 'Yellow Low' };
        return undefined;
      }
    };
  }

  function limitLines(limits) {
    const out = {};
    const pair = (low, high, color) => {
      const entry = {};
      if (low !== undefined) entry.low = { color, value: low };
      if (high !== undefined) entry.high = { color, value: high };
      return Object.keys(entry).length ? entry : undefined;
    };
    const warning = pair(limits.yellow_low, limits.yellow_high, 'yellow');
    const critical = pair(limits.red_low, limits.red_high, 'red');
    if (warning) out.WARNING = warning;
    if (critical) out.CRITICAL = critical;
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // The object tree, from the dictionary.
  // The cameras that take images, as capture_image names them ("navcam_left").
  function camerasOf(commands) {
    const capture = (commands || []).find((c) => c.name === 'capture_image');
    const arg = capture && capture.arguments.find((a) => a.name === 'camera');
    return arg && arg.choices ? arg.choices : [];
  }

  function buildObjects(dictionary, cameras) {
    const objects = new Map();
    const id = (key) => ({ namespace: NAMESPACE, key });
    const fields = new Map();
    const subsystemIds = [];
    for (const subsystem of dictionary.subsystems) {
      // Link metrics are computed by the station, not telemetry: the link status view shows them.
      if (subsystem.key === 'link') continue;
      const children = [];
      for (const m of subsystem.measurements) {
        // Lists (wheel currents, spectra) have no single value to plot: not in the tree.
        if (m.format === 'array') continue;
        const value = {
          key: 'value',
          name: m.unit ? `${m.name} (${m.unit})` : m.name,
          unit: m.unit || undefined,
          format: m.format === 'float' || m.format === 'integer' ? 'float' : m.format,
          hints: { range: 1 }
        };
        if (m.enumerations) value.enumerations = m.enumerations;
        if (m.format === 'boolean') value.format = 'float';
        if (m.limits) value.limits = m.limits;
        const object = {
          identifier: id(m.key),
          name: m.name,
          type: TELEMETRY_TYPE,
          location: `${NAMESPACE}:stream.${subsystem.key}`,
          telemetry: {
            values: [
              value,
              {
                key: 'utc',
                source: 'utc',
                name: 'Ground received',
                format: 'utc',
                hints: { domain: 1 }
              },
              { key: 'scet', name: 'On-board time', format: 'utc', hints: { domain: 2 } }
            ]
          },
          lgs: { key: m.key, limits: m.limits }
        };
        objects.set(m.key, object);
        fields.set(m.key, object);
        children.push(id(m.key));
      }
      const folderKey = `stream.${subsystem.key}`;
      objects.set(folderKey, {
        identifier: id(folderKey),
        name: subsystem.name,
        type: 'folder',
        location: `${NAMESPACE}:rover`,
        composition: subsystem.key === 'event' ? [id('events'), ...children] : children
      });
      subsystemIds.push(id(folderKey));
    }
    const view = (key, name, type) => {
      objects.set(key, { identifier: id(key), name, type, location: `${NAMESPACE}:rover` });
      return id(key);
    };
    const traverse = view('traverse', 'Traverse map', 'lgs.traverse');
    const link = view('link-status', 'Link status', 'lgs.link');
    const alarms = view('alarms', 'Alarms', 'lgs.alarms');
    const commands = view('commands', 'Commands', 'lgs.commands');
    const downlink = view('downlink', 'Images and files', 'lgs.downlink');
    const science = view('science', 'Science: spectra and composition', 'lgs.science');
    // One imagery object per camera: Open MCT's imagery view over the images the station kept.
    const cameraIds = cameras.map((camera) => {
      const key = `images.${camera}`;
      objects.set(key, {
        identifier: id(key),
        name: `Images: ${camera}`,
        type: IMAGERY_TYPE,
        location: `${NAMESPACE}:images`,
        telemetry: {
          values: [
            { key: 'url', name: 'Image', format: 'image', hints: { image: 1 } },
            { key: 'name', name: 'File', format: 'string', hints: { imageDownloadName: 1 } },
            { key: 'utc', source: 'utc', name: 'Ground received', format: 'utc', hints: { domain: 1 } },
            { key: 'scet', name: 'On-board time', format: 'utc', hints: { domain: 2 } },
            { key: 'exposure_ms', name: 'Exposure (ms)', format: 'float' },
            { key: 'pan_deg', name: 'Pan (deg)', format: 'float' },
            { key: 'tilt_deg', name: 'Tilt (deg)', format: 'float' },
            { key: 'sun_elevation_deg', name: 'Sun elevation (deg)', format: 'float' }
          ]
        },
        // Open MCT's imagery view puts its own time conductor on it, which reads this.
        configuration: {},
        lgs: { camera }
      });
      return id(key);
    });
    objects.set('images', {
      identifier: id('images'),
      name: 'Cameras',
      type: 'folder',
      location: `${NAMESPACE}:rover`,
      composition: cameraIds
    });

    const present = (key) => (fields.has(key) ? [id(key)] : []);
    // Power in and out share a unit: one overlay plot with a legend reads better than a stack.
    objects.set('plot.power', {
      identifier: id('plot.power'),
      name: 'Power in and out (plot)',
      type: 'telemetry.plot.overlay',
      location: `${NAMESPACE}:rover`,
      composition: [
        ...present('housekeeping.solar_power_w'),
        ...present('housekeeping.load_power_w')
      ],
      configuration: { series: [], yAxis: {}, xAxis: {}, legend: { position: 'top', expanded: true } }
    });
    objects.set('table.soil', {
      identifier: id('table.soil'),
      name: 'Soil composition',
      type: 'LadTable',
      location: `${NAMESPACE}:rover`,
      composition: [...fields.keys()]
        .filter((k) => k.startsWith('soil.') && /(wt_percent|band_depth)/.test(k))
        .map(id)
    });
    const overview = view('overview', 'Operations overview', 'lgs.overview');
    const state = view('state', 'Rover state and mission clock', 'lgs.state');
    const power = view('power', 'Battery and power', 'lgs.power');
    const timeline = view('timeline', 'Timeline: events, alarms, commands', 'lgs.timeline');
    // The rover's events as operators read them: one row each (time, severity, kind, message).
    objects.set('events', { identifier: id('events'), name: 'Events (one row each)',
      type: 'lgs.events', location: `${NAMESPACE}:stream.event` });
    objects.set('rover', {
      identifier: id('rover'),
      name: `Rover ${dictionary.rover}`,
      type: 'folder',
      location: 'ROOT',
      composition: [overview, state, timeline, traverse, science, power, link, alarms, commands,
        downlink, id('images'), id('plot.power'), id('table.soil'), ...subsystemIds]
    });
    // The station serves these; they cannot be saved back. Open MCT shows them locked, and an
    // operator who wants a different layout duplicates one into My Items.
    objects.forEach((object) => {
      object.locked = true;
      object.disallowUnlock = true;
    });
    return objects;
  }

  // ---------------------------------------------------------------------------------------
  // Views.
  function pollingView(element, period, render) {
    let timer;
    let stopped = false;
    const tick = async () => {
      try {
        await render();
      } catch (e) {
        element.replaceChildren(el('div', { class: 'lgs-muted' }, e.message));
      }
      if (!stopped) timer = setTimeout(tick, period);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  function linkView(element) {
    const root = el('div', { class: 'lgs-view lgs-link' });
    element.append(root);
    return pollingView(root, 2000, async () => {
      const link = await getJson('/api/link');
      const t = link.totals;
      const rows = Object.entries(link.streams)
        .filter(([, s]) => s.received > 0)
        .map(([name, s]) =>
          el('tr', {}, el('td', {}, name), el('td', {}, s.packets_per_s.toFixed(2)),
            el('td', {}, s.received), el('td', {}, s.missing), el('td', {}, s.lost),
            el('td', {}, (s.latency.p99_ns / 1e6).toFixed(1)))
        );
      root.replaceChildren(
        el('div', {},
          `received ${t.received} · missing ${t.missing} · lost ${t.lost} · rejected ` +
            `${t.rejected} · duplicates ${t.duplicates} · latency p50 ` +
            `${(link.latency.p50_ns / 1e6).toFixed(1)} ms p99 ${(link.latency.p99_ns / 1e6).toFixed(1)} ms` +
            (link.realtime ? ` · web dropped ${link.realtime.samples_dropped + link.realtime.feed_dropped}` : '')),
        el('table', {},
          el('tr', {}, ...['stream', 'pkt/s', 'received', 'missing', 'lost', 'p99 ms'].map((h) => el('th', {}, h))),
          ...rows)
      );
    });
  }

  function alarmsView(element) {
    const root = el('div', { class: 'lgs-view lgs-alarms' });
    element.append(root);
    let render;
    const ack = async (id) => {
      await postJson('/api/alarms/ack', { id, by: 'web' });
      setTimeout(render, 300);
    };
    let shown;
    render = async () => {
      const { alarms } = await getJson('/api/alarms');
      // Rebuilt only when something changed, so a button does not move under the pointer.
      const now = JSON.stringify(alarms);
      if (now === shown) return;
      shown = now;
      if (alarms.length === 0) {
        root.replaceChildren(el('div', { class: 'lgs-muted lgs-nominal' }, 'All nominal: no alarms.'));
        return;
      }
      root.replaceChildren(
        el('button', { onclick: () => ack('all') }, 'Acknowledge all'),
        el('table', {},
          el('tr', {}, ...['alarm', 'value', 'state'].map((h) => el('th', {}, h))),
          ...alarms.map((a) =>
            el('tr', { class: `lgs-alarm lgs-${a.severity}`, 'data-alarm-id': a.id },
              el('td', {}, el('div', {}, `${a.severity.toUpperCase()} ${a.id}`),
                el('div', { class: 'lgs-muted' }, a.text)),
              el('td', {}, `${Number(a.value).toPrecision(4)} ${a.unit || ''}`),
              el('td', {}, a.acknowledged ? `${a.state} (ack by ${a.acknowledged_by})` : a.state,
                a.acknowledged ? '' : el('button', { onclick: () => ack(a.id) }, 'Ack'))
            )
          )
        )
      );
    };
    return pollingView(root, 1000, render);
  }

  function commandsView(element) {
    const root = el('div', { class: 'lgs-view lgs-commands' });
    element.append(root);
    const form = el('div', {});
    const result = el('div', { class: 'lgs-result' });
    const history = el('div', {});
    root.append(form, result, history);
    getJson('/api/commands/dictionary').then((dictionary) => {
      const select = el('select', { name: 'command' },
        ...dictionary.map((c) => el('option', { value: c.name }, c.name)));
      const args = el('span', {});
      const confirm = el('input', { type: 'checkbox', name: 'confirm' });
      const showArgs = () => {
        const c = dictionary.find((d) => d.name === select.value);
        args.replaceChildren(
          ...c.arguments.map((a) => {
            const input = a.choices
              ? el('select', { name: a.name }, ...a.choices.map((v) => el('option', { value: v }, v)))
              : el('input', { name: a.name, type: 'number', step: 'any', min: a.min, max: a.max,
                  value: a.default, title: a.description });
            if (a.choices && a.default !== undefined) input.value = a.default;
            return el('label', {}, `${a.name}${a.unit ? ` (${a.unit})` : ''}`, input);
          })
        );
        confirm.parentElement.style.display = c.hazardous ? '' : 'none';
      };
      select.addEventListener('change', showArgs);
      const send = async () => {
        const body = { name: select.value, args: {}, confirm: confirm.checked, origin: 'web' };
        args.querySelectorAll('[name]').forEach((input) => {
          if (input.value !== '') body.args[input.name] = input.value;
        });
        try {
          const answer = await postJson('/api/commands', body);
          result.textContent = `#${answer.command_id} ${answer.stage}`;
        } catch (e) {
          result.textContent = `refused: ${e.message}${e.body && e.body.detail ? ` (${e.body.detail})` : ''}`;
        }
      };
      form.replaceChildren(el('label', {}, 'command', select), args,
        el('label', {}, 'confirm hazardous', confirm), el('button', { onclick: send }, 'Send'));
      showArgs();
    }).catch((e) => form.replaceChildren(el('div', { class: 'lgs-muted' }, e.message)));
    let shownCommands;
    const stop = pollingView(history, 1000, async () => {
      let commands;
      try {
        ({ commands } = await getJson('/api/commands'));
      } catch (e) {
        if (e.status === 404) {
          history.replaceChildren(el('div', { class: 'lgs-muted' }, 'This station does not command the rover (start it with --command).'));
          return;
        }
        throw e;
      }
      const now = JSON.stringify(commands);
      if (now === shownCommands) return;
      shownCommands = now;
      history.replaceChildren(el('table', {},
        el('tr', {}, ...['#', 'command', 'stage', 'detail'].map((h) => el('th', {}, h))),
        ...commands.slice().reverse().map((c) =>
          el('tr', {}, el('td', {}, c.command_id), el('td', {}, `${c.name} ${c.arguments}`),
            el('td', {}, c.stage), el('td', {}, c.detail)))));
    });
    return stop;
  }

  // The traverse map: the site map's hillshade (or elevation, or slope) as the base layer, the
  // hazard cells over it, a grid in site metres with labels, a scale bar and a north arrow, the
  // path and the rover with its heading, drive targets, soil-measurement sites (click: the
  // result) and image footprints (click: the image). Drag to pan, wheel to zoom, "fit" to see
  // everything. The site frame is x east, y north (metres from the landing site), north up.
  // What it drew is on the root element (data-*) and its lgsMap property, for tests.
  function traverseView(element, openmct) {
    const canvas = el('canvas', { class: 'lgs-map' });
    const layer = el('select', { class: 'lgs-map-layer' },
      ...['hillshade', 'elevation', 'slope'].map((l) => el('option', { value: l }, l)));
    const toggles = {};
    const toggle = (key, label) => {
      toggles[key] = el('input', { type: 'checkbox', checked: '' });
      toggles[key].addEventListener('change', () => draw());
      return el('label', {}, toggles[key], label);
    };
    const fit = el('button', { class: 'lgs-map-fit' }, 'fit');
    const legend = el('span', { class: 'lgs-muted lgs-map-legend' });
    const toolbar = el('div', { class: 'lgs-map-toolbar' }, el('label', {}, 'base', layer),
      toggle('hazards', 'hazards'), toggle('sites', 'soil sites'),
      toggle('footprints', 'image footprints'), fit, legend);
    const scaleLabel = el('span', { class: 'lgs-scalebar-label' });
    const scaleBar = el('div', { class: 'lgs-scalebar' }, el('div', { class: 'lgs-scalebar-bar' }),
      scaleLabel);
    const north = el('div', { class: 'lgs-north', title: 'north (the site frame is north-up)' },
      el('div', { class: 'lgs-north-arrow' }), 'N');
    const detail = el('div', { class: 'lgs-map-detail', hidden: '' });
    const stage = el('div', { class: 'lgs-map-stage' }, canvas, north, scaleBar, detail);
    const caption = el('div', { class: 'lgs-muted lgs-map-caption' });
    const root = el('div', { class: 'lgs-view lgs-traverse' }, toolbar, stage, caption);
    element.append(root);

    const instrumentColour = { vnis: '#4fc3f7', apxs: '#e040fb', unknown: '#aaa' };
    // Neutron sites are coloured by the hydrogen they found (WEH wt %): 0 blue .. 1.5+ white.
    const wehColour = (weh) => {
      const t = Math.max(0, Math.min(1, weh / 1.5));
      const c = (a, b) => Math.round(a + (b - a) * t);
      return `rgb(${c(40, 255)},${c(90, 255)},${c(220, 255)})`;
    };
    const siteColour = (s) => (s.instrument === 'neutron'
      ? wehColour(s.neutron.hydrogen_weh_wt_percent) : instrumentColour[s.instrument] || '#aaa');

    let traverse = { path: [], sites: [], hazards: [] };
    let images = [];
    let commands = [];
    let info = null;
    const pictures = {};  // layer name -> { image, georef, version, at } (overview), plus detail
    let detailPicture = null;
    let view = null;      // { cx, cy, scale: px per metre }
    let chosen = null;    // the site or image shown in the detail panel
    let stopped = false;

    const size = () => {
      const w = Math.max(200, stage.clientWidth || 400);
      const h = Math.max(150, stage.clientHeight || 300);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      return [w, h];
    };
    const toScreen = (x, y) => [canvas.width / 2 + (x - view.cx) * view.scale,
      canvas.height / 2 - (y - view.cy) * view.scale];
    const toSite = (px, py) => [view.cx + (px - canvas.width / 2) / view.scale,
      view.cy - (py - canvas.height / 2) / view.scale];

    // What there is to see: the map's bounds, the path and the sites, with a margin.
    const extent = () => {
      let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
      const take = (x, y) => { w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y); };
      if (info && info.bounds_m) {
        take(info.bounds_m.west, info.bounds_m.south);
        take(info.bounds_m.east, info.bounds_m.north);
      }
      traverse.path.forEach((p) => take(p[1], p[2]));
      traverse.sites.forEach((p) => take(p.x_m, p.y_m));
      if (!Number.isFinite(w)) return [-10, -10, 10, 10];
      const margin = Math.max(2, 0.05 * Math.max(e - w, n - s));
      return [w - margin, s - margin, e + margin, n + margin];
    };
    const fitView = () => {
      const [w, h] = size();
      const [x0, y0, x1, y1] = extent();
      view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2,
        scale: Math.min(w / (x1 - x0), h / (y1 - y0)) };
    };
    fit.addEventListener('click', () => { fitView(); draw(); requestDetail(); });

    // A "nice" length (1, 2 or 5 × 10^k metres) at least `px` pixels long.
    const niceStep = (px) => {
      const raw = px / view.scale;
      const p = 10 ** Math.floor(Math.log10(raw));
      for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
      return 10 * p;
    };
    const metres = (v) => {
      const r = Math.abs(v) < 1e-9 ? 0 : v;
      return Math.abs(r) >= 1000 ? `${(r / 1000).toFixed(r % 1000 === 0 ? 0 : 1)} km`
        : `${Number(r.toPrecision(6))} m`;
    };

    const drawPicture = (g, p) => {
      if (!p || !p.image.complete || !p.image.naturalWidth) return false;
      const [x, y] = toScreen(p.georef.west_m, p.georef.north_m);
      const w = p.georef.width * p.georef.pixel_size_m * view.scale;
      const h = p.georef.height * p.georef.pixel_size_m * view.scale;
      g.imageSmoothingEnabled = p.georef.pixel_size_m * view.scale < 4;
      g.drawImage(p.image, x, y, w, h);
      return true;
    };

    function draw() {
      if (stopped) return;
      const started = performance.now();
      const [W, H] = size();
      if (!view) fitView();
      const g = canvas.getContext('2d');
      g.fillStyle = '#1e1e1e';
      g.fillRect(0, 0, W, H);
      const base = layer.value;
      let drew = drawPicture(g, pictures[base]);
      if (detailPicture && detailPicture.layer === base) drew = drawPicture(g, detailPicture) || drew;
      root.dataset.baseLayer = drew ? base : '';
      if (toggles.hazards.checked) {
        drawPicture(g, pictures.hazard);
        if (detailPicture && detailPicture.hazard) drawPicture(g, detailPicture.hazard);
      }

      // The grid: lines every nice step (at least 70 px apart), labelled in site metres.
      const step = niceStep(70);
      const [x0, y1] = toSite(0, 0);
      const [x1, y0] = toSite(W, H);
      g.strokeStyle = 'rgba(255,255,255,0.18)';
      g.lineWidth = 1;
      g.fillStyle = '#ddd';
      g.font = '11px sans-serif';
      const labels = [];
      g.beginPath();
      for (let x = Math.ceil(x0 / step) * step; x <= x1; x += step) {
        const [px] = toScreen(x, 0);
        g.moveTo(Math.round(px) + 0.5, 0);
        g.lineTo(Math.round(px) + 0.5, H);
        labels.push([`E ${metres(x)}`, px + 3, 12]);
      }
      for (let y = Math.ceil(y0 / step) * step; y <= y1; y += step) {
        const [, py] = toScreen(0, y);
        g.moveTo(0, Math.round(py) + 0.5);
        g.lineTo(W, Math.round(py) + 0.5);
        labels.push([`N ${metres(y)}`, 3, py - 3]);
      }
      g.stroke();
      for (const [t, x, y] of labels) g.fillText(t, x, y);
      root.dataset.gridStepM = String(step);
      root.dataset.gridLabels = labels.map((l) => l[0]).join('|');

      // Where the images looked.
      const shownImages = [];
      if (toggles.footprints.checked) {
        g.lineWidth = 1;
        for (const im of images) {
          if (!im.footprint) continue;
          g.beginPath();
          im.footprint.corners_m.forEach(([x, y], i) => {
            const [px, py] = toScreen(x, y);
            if (i) g.lineTo(px, py); else g.moveTo(px, py);
          });
          g.closePath();
          const on = chosen && chosen.image === im.name;
          g.fillStyle = on ? 'rgba(255,235,59,0.25)' : 'rgba(128,222,234,0.10)';
          g.strokeStyle = on ? '#ffeb3b' : 'rgba(128,222,234,0.6)';
          g.fill();
          g.stroke();
          shownImages.push(im);
        }
      }
      root.dataset.footprints = String(shownImages.length);

      // The path, then where the rover was told to go, then the rover.
      const path = traverse.path;
      g.strokeStyle = '#ff9800';
      g.lineWidth = 2;
      g.beginPath();
      path.forEach(([, x, y], i) => {
        const [px, py] = toScreen(x, y);
        if (i) g.lineTo(px, py); else g.moveTo(px, py);
      });
      g.stroke();
      const targets = driveTargets();
      for (const t of targets) {
        const [px, py] = toScreen(t.x, t.y);
        g.strokeStyle = t.active ? '#76ff03' : 'rgba(118,255,3,0.5)';
        g.lineWidth = 2;
        g.beginPath();
        g.moveTo(px - 6, py - 6); g.lineTo(px + 6, py + 6);
        g.moveTo(px + 6, py - 6); g.lineTo(px - 6, py + 6);
        g.stroke();
      }
      root.dataset.targets = String(targets.length);

      // Soil sites: circles, neutron ones coloured by hydrogen.
      let sitesShown = 0;
      if (toggles.sites.checked) {
        for (const s of traverse.sites) {
          const [px, py] = toScreen(s.x_m, s.y_m);
          if (px < -10 || py < -10 || px > W + 10 || py > H + 10) continue;
          g.beginPath();
          g.arc(px, py, chosen && chosen.site === s.id ? 7 : 5, 0, 2 * Math.PI);
          g.fillStyle = siteColour(s);
          g.fill();
          g.strokeStyle = '#000';
          g.lineWidth = 1;
          g.stroke();
          ++sitesShown;
        }
      }
      root.dataset.sites = String(sitesShown);

      if (path.length) {
        const [, x, y, heading] = path[path.length - 1];
        const [px, py] = toScreen(x, y);
        const a = (heading || 0) * Math.PI / 180;  // clockwise from north = from screen up
        g.save();
        g.translate(px, py);
        g.rotate(a);
        g.beginPath();
        g.moveTo(0, -11); g.lineTo(7, 8); g.lineTo(0, 4); g.lineTo(-7, 8); g.closePath();
        g.fillStyle = '#fff';
        g.strokeStyle = '#000';
        g.lineWidth = 1.5;
        g.fill();
        g.stroke();
        g.restore();
        root.dataset.rover = `${x.toFixed(2)},${y.toFixed(2)},${(heading || 0).toFixed(1)}`;
      }

      // The scale bar: a nice length near 100 px.
      const bar = niceStep(100);
      scaleBar.firstChild.style.width = `${Math.round(bar * view.scale)}px`;
      scaleLabel.textContent = metres(bar);

      const rover = path.length ? path[path.length - 1] : null;
      caption.textContent = (rover
        ? `rover at E ${rover[1].toFixed(2)} m, N ${rover[2].toFixed(2)} m, heading ` +
          `${(rover[3] || 0).toFixed(0)}° · ` : 'no navigation telemetry in the time range yet · ') +
        `${path.length} poses · ${traverse.sites.length} soil sites` +
        (traverse.sites_left_out ? ` (+${traverse.sites_left_out} not shown)` : '') +
        ` · ${images.filter((i) => i.footprint).length} image footprints · ` +
        (info && info.tiles ? `site map ${info.tiles} tiles, ${info.observed_cells} cells at ` +
          `${info.cell_size_m} m` : 'no terrain tiles yet');
      const p = pictures[base];
      legend.textContent = p && base !== 'hillshade'
        ? `${base} ${p.georef.lo.toFixed(2)} … ${p.georef.hi.toFixed(2)} ${base === 'slope' ? '°' : 'm'}` : '';
      root.dataset.renderMs = (performance.now() - started).toFixed(1);
    }

    // Drive targets: waypoints of the recent drives; a distance-and-heading drive still running
    // is drawn from where the rover is now.
    function driveTargets() {
      const out = [];
      const rover = traverse.path.length ? traverse.path[traverse.path.length - 1] : null;
      for (const c of commands) {
        if (c.name !== 'drive') continue;
        const active = !/completed|failed|rejected|timed out|cancel/i.test(c.stage || '');
        const arg = (k) => {
          const m = new RegExp(`(?:^|\\s)${k}=(-?[0-9.eE+-]+)`).exec(c.arguments || '');
          return m ? Number(m[1]) : undefined;
        };
        const x = arg('x_m'), y = arg('y_m');
        if (x !== undefined && y !== undefined) {
          out.push({ x, y, active, id: c.command_id });
        } else if (active && rover) {
          const d = arg('distance_m'), h = arg('heading_deg');
          if (d !== undefined && h !== undefined) {
            const a = h * Math.PI / 180;
            out.push({ x: rover[1] + d * Math.sin(a), y: rover[2] + d * Math.cos(a), active, id: c.command_id });
          }
        }
      }
      return out;
    }

    // A picture of a layer from /api/map/image, decoded before it replaces the one shown.
    async function loadPicture(name, query) {
      const j = await getJson(`/api/map/image?layer=${name}&${query}`);
      const image = new Image();
      image.src = `data:image/png;base64,${j.png_base64}`;
      await image.decode();
      delete j.png_base64;
      return { image, georef: j, layer: name };
    }
    async function refreshOverview() {
      const max = 1024;
      for (const name of [layer.value, 'hazard']) {
        const have = pictures[name];
        if (have && have.georef.version === info.version) continue;
        try {
          pictures[name] = await loadPicture(name, `max=${max}`);
        } catch (e) {
          if (e.status !== 404) throw e;  // 404: nothing observed (yet) for this layer
        }
      }
    }
    // Zoomed in past the overview's resolution: the visible window at the screen's.
    let detailTimer;
    function requestDetail() {
      clearTimeout(detailTimer);
      detailTimer = setTimeout(async () => {
        const p = pictures[layer.value];
        if (!p || !view || stopped) return;
        if (p.georef.pixel_size_m * view.scale <= 1.5) {
          detailPicture = null;
          draw();
          return;
        }
        const [w, s] = toSite(0, canvas.height);
        const [e, n] = toSite(canvas.width, 0);
        const q = `max=${Math.min(4096, Math.max(canvas.width, canvas.height))}` +
          `&west=${w}&south=${s}&east=${e}&north=${n}`;
        try {
          const base = await loadPicture(layer.value, q);
          base.hazard = await loadPicture('hazard', q).catch(() => null);
          detailPicture = base;
          draw();
        } catch (err) {
          if (err.status !== 404) throw err;
        }
      }, 300);
    }
    layer.addEventListener('change', async () => {
      detailPicture = null;
      if (info) await refreshOverview().catch(() => {});
      draw();
      requestDetail();
    });

    // Pan and zoom.
    let drag = null;
    canvas.addEventListener('pointerdown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, cx: view.cx, cy: view.cy, moved: false };
      canvas.setPointerCapture(ev.pointerId);
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      view.cx = drag.cx - dx / view.scale;
      view.cy = drag.cy + dy / view.scale;
      draw();
    });
    canvas.addEventListener('pointerup', (ev) => {
      const wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) { requestDetail(); return; }
      pick(ev.offsetX, ev.offsetY);
    });
    canvas.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const [x, y] = toSite(ev.offsetX, ev.offsetY);
      view.scale = Math.max(0.05, Math.min(400, view.scale * Math.exp(-ev.deltaY * 0.0015)));
      // The point under the cursor stays there.
      view.cx = x - (ev.offsetX - canvas.width / 2) / view.scale;
      view.cy = y + (ev.offsetY - canvas.height / 2) / view.scale;
      draw();
      requestDetail();
    }, { passive: false });

    const inside = ([x, y], corners) => {
      let c = false;
      for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
        const [xi, yi] = corners[i], [xj, yj] = corners[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
      }
      return c;
    };
    // A click: the soil sites within 8 px (a stop often has several instruments' results at one
    // spot: all of them, nearest first), else the newest image whose footprint holds the point.
    function pick(px, py) {
      const near = [];
      if (toggles.sites.checked) {
        for (const s of traverse.sites) {
          const [sx, sy] = toScreen(s.x_m, s.y_m);
          const d = Math.hypot(sx - px, sy - py);
          if (d <= 8) near.push([d, s]);
        }
      }
      if (near.length) {
        // Nearest first; at one spot, the newest first.
        near.sort((a, b) => a[0] - b[0] || b[1].onboard_time_ns - a[1].onboard_time_ns);
        showSites(near.slice(0, 500).map(([, s]) => s), near.length);
        return;
      }
      if (toggles.footprints.checked) {
        const at = toSite(px, py);
        for (const im of images) {  // newest first
          if (inside(at, im.footprint.corners_m)) { showImage(im); return; }
        }
      }
      chosen = null;
      detail.hidden = true;
      draw();
    }
    const row = (k, v) => el('tr', {}, el('th', {}, k), el('td', {}, v));
    // The panel's heading line: what it shows and its close button.
    const head = (title) => el('div', { class: 'lgs-map-detail-head' }, el('span', { class: 'lgs-muted' }, title),
      el('button', { class: 'lgs-map-close', title: 'close', onclick: () => { chosen = null; detail.hidden = true; draw(); } }, '×'));
    function siteTable(s) {
      const rows = [row('measurement', `#${s.id}`), row('instrument', s.instrument),
        row('on-board time', s.onboard_time_ns ? new Date(s.onboard_time_ns / 1e6).toISOString() : '–'),
        row('where', `E ${s.x_m.toFixed(2)} m, N ${s.y_m.toFixed(2)} m`),
        row('integration', `${s.integration_s} s${s.in_shadow ? ', in shadow' : ''}`)];
      if (s.vnis) {
        rows.push(row('bands', `${s.vnis.bands} from ${s.vnis.start_wavelength_um} µm by ${s.vnis.step_um} µm`),
          row('band depth 1 µm', s.vnis.band_depth_1um.toFixed(4)),
          row('band depth 2 µm', s.vnis.band_depth_2um.toFixed(4)),
          row('ice band depth 1.5 µm', s.vnis.ice_band_depth_1_5um.toFixed(4)));
      }
      if (s.oxides_wt_percent) {
        for (const [k, v] of Object.entries(s.oxides_wt_percent)) rows.push(row(`${k} wt %`, v.toFixed(2)));
      }
      if (s.neutron) {
        const n = s.neutron;
        rows.push(row('hydrogen (WEH)', `${n.hydrogen_weh_wt_percent.toFixed(3)} wt %`),
          row('thermal', `${n.thermal_counts_per_s.toFixed(1)} /s`),
          row('epithermal', `${n.epithermal_counts_per_s.toFixed(1)} /s`),
          row('fast', `${n.fast_counts_per_s.toFixed(1)} /s`));
      }
      rows.push(el('tr', {}, el('td', { colspan: 2 }, el('button', { class: 'lgs-to-science', onclick: () => {
        sessionStorage.setItem(SCIENCE_CHOICE, `${s.ground_time_ns}/${s.id}`);
        window.location.hash = '#/browse/lgs:rover/lgs:science';
      } }, 'open in the science view'))));
      return el('table', { class: 'lgs-site-result', 'data-measurement': s.id }, ...rows);
    }
    // The measurements at a spot: one line each (the chosen one's whole result below).
    const summary = (s) => {
      if (s.vnis) return `band depths ${s.vnis.band_depth_1um.toFixed(3)} / ${s.vnis.band_depth_2um.toFixed(3)}`;
      if (s.neutron) return `WEH ${s.neutron.hydrogen_weh_wt_percent.toFixed(3)} wt %`;
      if (s.oxides_wt_percent) return `FeO ${s.oxides_wt_percent.FeO.toFixed(2)} wt %`;
      return '';
    };
    function showSites(sites, total, which) {
      const shown = which || sites[0];
      chosen = { site: shown.id };
      const list = el('table', { class: 'lgs-site-list' },
        ...sites.map((s) => {
          const tr = el('tr', { 'data-measurement': s.id, class: s === shown ? 'lgs-chosen' : '' },
            el('td', {}, `#${s.id}`), el('td', {}, s.instrument),
            el('td', {}, s.onboard_time_ns ? new Date(s.onboard_time_ns / 1e6).toISOString().slice(11, 19) : ''),
            el('td', {}, summary(s)));
          tr.addEventListener('click', () => showSites(sites, total, s));
          return tr;
        }));
      detail.replaceChildren(head(total > 1 ? `${total} measurements here` : 'measurement'),
        siteTable(shown), total > 1 ? list : '');
      detail.hidden = false;
      draw();
    }
    function showImage(im) {
      chosen = { image: im.name };
      const f = im.camera_frame || {};
      detail.replaceChildren(head('image'),
        el('img', { class: 'lgs-map-image', src: im.url, alt: im.name, 'data-product': im.name }),
        el('table', {}, row('image', im.name), row('camera', im.camera || ''),
          row('pan / tilt', `${(f.pan_deg || 0).toFixed(1)}° / ${(f.tilt_deg || 0).toFixed(1)}°`)));
      detail.hidden = false;
      draw();
    }

    let fetchedFor = '';
    const stopPolling = pollingView(caption, 2000, async () => {
      const bounds = openmct.time.getBounds();
      const range = `start=${Math.max(0, Math.floor(bounds.start))}&end=${Math.ceil(bounds.end)}`;
      // A fixed range that does not hold the present does not change: asked for once, not
      // every 2 s (over days it is megabytes and a good part of a second of the station's web
      // thread).
      const now = Date.now();
      const settled = !openmct.time.isRealTime() &&
        (bounds.end < now - 60000 || bounds.start > now + 60000);
      const [t, i] = await Promise.all([
        settled && range === fetchedFor && traverse ? traverse : getJson(`/api/traverse?${range}`),
        getJson('/api/map')]);
      traverse = t;
      fetchedFor = range;
      const first = !info || (!info.tiles && i.tiles);
      info = i;
      // The kept images with where they looked (404: this station keeps no products).
      images = info.products ? await getJson('/api/products?limit=2000')
        .then((j) => (j.kept || []).filter((k) => k.footprint)) : [];
      commands = info.commanding ? await getJson('/api/commands').then((j) => j.commands || []) : [];
      if (info.tiles) await refreshOverview();
      if (first) fitView();
      draw();
    });
    const onResize = new ResizeObserver(() => draw());
    onResize.observe(stage);
    root.lgsMap = { toScreen: (x, y) => toScreen(x, y), toSite: (x, y) => toSite(x, y),
      fit: () => { fitView(); draw(); }, get view() { return view; }, draw };
    return () => {
      stopped = true;
      stopPolling();
      onResize.disconnect();
      clearTimeout(detailTimer);
    };
  }

  // Science: the soil measurements of the time range, newest first, one chosen (from the list, or
  // from the traverse map's "science view" button) and shown as what it is: a VNIS reflectance
  // spectrum against wavelength with the pyroxene (1 µm, 2 µm) and ice (1.5 µm) bands marked and
  // the band depths the rover reported, a second spectrum laid over it on request; APXS oxides
  // as bars beside a reference highland soil; neutron hydrogen (WEH) with its trend over the
  // range. Measurements come from the recordings (/api/traverse, /api/soil/measurement).
  // Typical mature feldspathic highland soil (Apollo 16 average, wt %; rounded, for comparison).
  const HIGHLAND_SOIL = { SiO2: 45.0, Al2O3: 27.0, CaO: 15.6, FeO: 5.1, MgO: 5.7, TiO2: 0.5,
    Na2O: 0.5, K2O: 0.1, Cr2O3: 0.1, MnO: 0.07 };
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.flat().forEach((c) => node.append(c instanceof Node ? c : String(c)));
    return node;
  }
  const SCIENCE_CHOICE = 'lgs.science.choose';

  function scienceView(element, openmct) {
    const kind = el('select', { class: 'lgs-science-kind' },
      ...['all', 'vnis', 'apxs', 'neutron'].map((k) => el('option', { value: k }, k)));
    const overlay = el('input', { type: 'checkbox', class: 'lgs-science-overlay' });
    const list = el('div', { class: 'lgs-science-list' });
    const plot = el('div', { class: 'lgs-science-plot' });
    const root = el('div', { class: 'lgs-view lgs-science' },
      el('div', { class: 'lgs-science-toolbar' }, el('label', {}, 'instrument', kind),
        el('label', { title: 'the next VNIS spectrum chosen is laid over the shown one' }, overlay,
          'overlay a second spectrum')),
      el('div', { class: 'lgs-science-pane' }, list, plot));
    element.append(root);
    let sites = [];
    let shown = [];  // the full measurements shown (two when overlaid)
    let listed = '';
    const colours = ['#4fc3f7', '#ff9800'];

    const key = (s) => `${s.ground_time_ns}/${s.id}`;
    const summary = (s) => {
      if (s.vnis) return `BD ${s.vnis.band_depth_1um.toFixed(3)} / ${s.vnis.band_depth_2um.toFixed(3)}`;
      if (s.neutron) return `WEH ${s.neutron.hydrogen_weh_wt_percent.toFixed(3)} %`;
      if (s.oxides_wt_percent) return `FeO ${s.oxides_wt_percent.FeO.toFixed(2)} %`;
      return '';
    };
    function renderList() {
      const want = kind.value;
      const rows = sites.filter((s) => want === 'all' || s.instrument === want).slice().reverse();
      const now = JSON.stringify([want, rows.length, rows.length && key(rows[0]), shown.map(key)]);
      if (now === listed) return;
      listed = now;
      list.replaceChildren(el('table', {},
        el('tr', {}, ...['#', 'instrument', 'on-board time', 'result (VNIS: band depth 1 µm / 2 µm)']
          .map((h) => el('th', {}, h))),
        ...rows.slice(0, 1000).map((s) => {
          const on = shown.some((m) => key(m) === key(s));
          const tr = el('tr', { class: `lgs-science-row${on ? ' lgs-chosen' : ''}`,
            'data-measurement': s.id, 'data-instrument': s.instrument },
          el('td', {}, s.id), el('td', {}, s.instrument),
          el('td', {}, s.onboard_time_ns ? new Date(s.onboard_time_ns / 1e6).toISOString().replace('T', ' ').slice(0, 19) : ''),
          el('td', {}, summary(s)));
          tr.addEventListener('click', () => choose(s));
          return tr;
        })));
    }
    async function choose(s) {
      let m;
      try {
        m = await getJson(`/api/soil/measurement?ground_ns=${s.ground_time_ns}&id=${s.id}`);
      } catch (e) {
        plot.replaceChildren(el('div', { class: 'lgs-warning' }, e.message));
        return;
      }
      const keep = overlay.checked && m.vnis && shown.length && shown[shown.length - 1].vnis;
      shown = keep ? [shown[shown.length - 1], m] : [m];
      overlay.checked = false;
      listed = '';
      renderList();
      renderPlot();
    }

    function spectrumPlot() {
      const W = 640, H = 340, L = 52, R = 12, T = 14, B = 40;
      const all = shown.filter((m) => m.vnis);
      const xs = all.flatMap((m) => m.vnis.wavelength_um);
      const ys = all.flatMap((m) => m.vnis.reflectance);
      const x0 = Math.min(...xs), x1 = Math.max(...xs);
      const y1 = Math.max(...ys) * 1.1 || 1;
      const px = (x) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
      const py = (y) => H - B - (y / y1) * (H - T - B);
      const g = svg('svg', { class: 'lgs-spectrum-plot', viewBox: `0 0 ${W} ${H}`, width: '100%' });
      // The absorption bands a scientist looks for.
      for (const [c, w, label] of [[1.0, 0.1, '1 µm pyroxene'], [1.5, 0.05, '1.5 µm ice'], [2.0, 0.2, '2 µm pyroxene']]) {
        if (c + w < x0 || c - w > x1) continue;
        const a = px(Math.max(x0, c - w)), b = px(Math.min(x1, c + w));
        g.append(svg('rect', { class: 'lgs-band', x: a, y: T, width: b - a, height: H - T - B,
          fill: label.includes('ice') ? 'rgba(120,200,255,0.15)' : 'rgba(255,255,255,0.08)' }),
        svg('text', { x: (a + b) / 2, y: T + 12, 'text-anchor': 'middle', fill: '#bbb', 'font-size': 11 }, label));
      }
      // Axes with ticks.
      g.append(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#888' }),
        svg('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#888' }));
      for (let x = Math.ceil(x0 * 4) / 4; x <= x1 + 1e-9; x += 0.25) {
        g.append(svg('line', { x1: px(x), y1: H - B, x2: px(x), y2: H - B + 4, stroke: '#888' }),
          svg('text', { x: px(x), y: H - B + 16, 'text-anchor': 'middle', fill: '#ccc', 'font-size': 11 }, x.toFixed(2)));
      }
      for (let i = 0; i <= 4; ++i) {
        const y = (y1 * i) / 4;
        g.append(svg('text', { x: L - 4, y: py(y) + 4, 'text-anchor': 'end', fill: '#ccc', 'font-size': 11 }, y.toFixed(3)));
      }
      g.append(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', fill: '#ddd', 'font-size': 12 }, 'wavelength (µm)'),
        svg('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', fill: '#ddd', 'font-size': 12,
          transform: `rotate(-90 12 ${(T + H - B) / 2})` }, 'reflectance'));
      all.forEach((m, i) => {
        const points = m.vnis.wavelength_um.map((x, k) => `${px(x).toFixed(1)},${py(m.vnis.reflectance[k]).toFixed(1)}`);
        g.append(svg('polyline', { class: 'lgs-spectrum', 'data-measurement': m.id,
          'data-points': points.length, points: points.join(' '), fill: 'none',
          stroke: colours[i], 'stroke-width': 1.5 }));
      });
      const legend = el('div', { class: 'lgs-science-legend' }, ...all.map((m, i) =>
        el('div', { 'data-measurement': m.id }, el('span', { style: `color:${colours[i]}` }, '━ '),
          `#${m.id} at E ${m.x_m.toFixed(2)} m, N ${m.y_m.toFixed(2)} m · ${m.vnis.bands} bands · ` +
          `band depth 1 µm ${m.vnis.band_depth_1um.toFixed(4)}, 2 µm ${m.vnis.band_depth_2um.toFixed(4)}, ` +
          `ice 1.5 µm ${m.vnis.ice_band_depth_1_5um.toFixed(4)}`)));
      return [g, legend];
    }
    function oxidePlot(m) {
      const oxides = Object.keys(HIGHLAND_SOIL);
      const W = 640, H = 320, L = 44, B = 36, T = 12;
      const top = Math.max(...oxides.map((o) => Math.max(m.oxides_wt_percent[o] || 0, HIGHLAND_SOIL[o]))) * 1.1;
      const band = (W - L - 8) / oxides.length;
      const py = (v) => H - B - (v / top) * (H - T - B);
      const g = svg('svg', { class: 'lgs-oxide-plot', viewBox: `0 0 ${W} ${H}`, width: '100%' },
        svg('line', { x1: L, y1: H - B, x2: W - 8, y2: H - B, stroke: '#888' }));
      for (let i = 0; i <= 4; ++i) {
        const v = (top * i) / 4;
        g.append(svg('text', { x: L - 4, y: py(v) + 4, 'text-anchor': 'end', fill: '#ccc', 'font-size': 11 }, v.toFixed(0)));
      }
      oxides.forEach((o, i) => {
        const x = L + i * band;
        const v = m.oxides_wt_percent[o] || 0, ref = HIGHLAND_SOIL[o];
        g.append(svg('rect', { class: 'lgs-oxide-bar', 'data-oxide': o, 'data-value': v, x: x + band * 0.1,
          y: py(v), width: band * 0.38, height: H - B - py(v), fill: '#e040fb' }),
        svg('rect', { class: 'lgs-oxide-reference', 'data-oxide': o, x: x + band * 0.5, y: py(ref),
          width: band * 0.38, height: H - B - py(ref), fill: '#777' }),
        svg('text', { x: x + band / 2, y: H - B + 14, 'text-anchor': 'middle', fill: '#ddd', 'font-size': 11 }, o),
        svg('text', { x: x + band / 2, y: H - B + 27, 'text-anchor': 'middle', fill: '#aaa', 'font-size': 10 }, v.toFixed(1)));
      });
      return [g, el('div', { class: 'lgs-science-legend' },
        el('span', { style: 'color:#e040fb' }, '■ '), `#${m.id} (total ${(m.oxides_wt_percent.total || 0).toFixed(1)} wt %) `,
        el('span', { style: 'color:#777' }, '■ '), 'typical highland soil (Apollo 16 average)')];
    }
    function hydrogenPlot(m) {
      const neutron = sites.filter((s) => s.neutron);
      const W = 640, H = 220, L = 52, R = 12, T = 12, B = 30;
      const t0 = Math.min(...neutron.map((s) => s.utc_ms)), t1 = Math.max(...neutron.map((s) => s.utc_ms));
      const top = Math.max(...neutron.map((s) => s.neutron.hydrogen_weh_wt_percent)) * 1.2 || 1;
      const px = (t) => L + ((t - t0) / (t1 - t0 || 1)) * (W - L - R);
      const py = (v) => H - B - (v / top) * (H - T - B);
      const g = svg('svg', { class: 'lgs-weh-plot', viewBox: `0 0 ${W} ${H}`, width: '100%' },
        svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#888' }),
        svg('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#888' }),
        svg('text', { x: (L + W) / 2, y: H - 8, 'text-anchor': 'middle', fill: '#ddd', 'font-size': 12 }, 'WEH (wt %) over the time range'),
        svg('text', { x: L - 4, y: py(top / 1.2) + 4, 'text-anchor': 'end', fill: '#ccc', 'font-size': 11 }, (top / 1.2).toFixed(2)),
        svg('polyline', { points: neutron.map((s) => `${px(s.utc_ms)},${py(s.neutron.hydrogen_weh_wt_percent)}`).join(' '),
          fill: 'none', stroke: '#90caf9' }));
      g.append(svg('circle', { cx: px(m.utc_ms), cy: py(m.neutron.hydrogen_weh_wt_percent), r: 5, fill: '#fff' }));
      const n = m.neutron;
      return [el('table', { class: 'lgs-neutron-result', 'data-measurement': m.id },
        el('tr', {}, el('th', {}, 'hydrogen (WEH)'), el('td', {}, `${n.hydrogen_weh_wt_percent.toFixed(3)} wt %`)),
        el('tr', {}, el('th', {}, 'thermal / epithermal / fast'),
          el('td', {}, `${n.thermal_counts_per_s.toFixed(1)} / ${n.epithermal_counts_per_s.toFixed(1)} / ${n.fast_counts_per_s.toFixed(1)} counts/s`))), g];
    }
    function renderPlot() {
      if (!shown.length) {
        plot.replaceChildren(el('div', { class: 'lgs-muted' }, 'choose a measurement from the list (or on the traverse map)'));
        return;
      }
      const m = shown[shown.length - 1];
      const head = el('h3', {}, `${m.instrument.toUpperCase()} #${m.id} · ` +
        `${m.onboard_time_ns ? new Date(m.onboard_time_ns / 1e6).toISOString() : ''} · ` +
        `E ${m.x_m.toFixed(2)} m, N ${m.y_m.toFixed(2)} m · ${m.integration_s} s${m.in_shadow ? ' in shadow' : ''}`);
      if (m.vnis) plot.replaceChildren(head, ...spectrumPlot());
      else if (m.oxides_wt_percent) plot.replaceChildren(head, ...oxidePlot(m));
      else if (m.neutron) plot.replaceChildren(head, ...hydrogenPlot(m));
      else plot.replaceChildren(head);
    }
    kind.addEventListener('change', () => { listed = ''; renderList(); });
    renderPlot();
    let first = true;
    return pollingView(list, 5000, async () => {
      const bounds = openmct.time.getBounds();
      const t = await getJson(
        `/api/traverse?start=${Math.max(0, Math.floor(bounds.start))}&end=${Math.ceil(bounds.end)}`);
      sites = t.sites;
      renderList();
      if (first) {
        first = false;
        // Sent here from the traverse map.
        const asked = sessionStorage.getItem(SCIENCE_CHOICE);
        sessionStorage.removeItem(SCIENCE_CHOICE);
        if (asked) {
          const s = sites.find((x) => key(x) === asked);
          if (s) await choose(s);
        }
      }
    });
  }

  function octets(n) {
    if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
    if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
    return `${Math.round(n)} B`;
  }

  const fixed = (v, digits) => (typeof v === 'number' ? v.toFixed(digits) : '–');

  function seconds(s) {
    const whole = Math.round(s);
    if (whole >= 86400) return `${Math.floor(whole / 86400)} d ${Math.floor((whole % 86400) / 3600)} h`;
    if (whole >= 3600) return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} m`;
    if (whole >= 60) return `${Math.floor(whole / 60)} m ${whole % 60} s`;
    return `${whole} s`;
  }

  // Files coming down (progress, rate, ETA at the current rate) and the images kept, the chosen
  // one shown large with its camera record beside it.
  function downlinkView(element) {
    const transfers = el('div', { class: 'lgs-transfers' });
    const kept = el('div', { class: 'lgs-kept' });
    const detail = el('div', { class: 'lgs-image-detail' });
    const root = el('div', { class: 'lgs-view lgs-downlink' }, el('h3', {}, 'Downlink queue'),
      transfers, el('h3', {}, 'Kept products'), el('div', { class: 'lgs-kept-pane' }, kept, detail));
    element.append(root);
    let chosen;
    let shownKept;
    const show = (k) => {
      chosen = k.name;
      const f = k.camera_frame || {};
      const rows = [['file', k.name], ['size', octets(k.size)], ['SHA-256', k.sha256],
        ['transaction', k.id || ''], ['camera', k.camera || ''],
        ['on-board time', k.onboard_time_ns ? new Date(k.onboard_time_ns / 1e6).toISOString() : ''],
        ['frame', f.frame_id], ['exposure', `${fixed(f.exposure_ms, 2)} ms`],
        ['gain', `${fixed(f.gain_db, 1)} dB`],
        ['pan / tilt', `${fixed(f.pan_deg, 1)}° / ${fixed(f.tilt_deg, 1)}°`],
        ['mean brightness', `${fixed(f.mean_brightness_dn, 0)} DN`],
        ['sun', `az ${fixed(f.sun_azimuth_deg, 1)}° el ${fixed(f.sun_elevation_deg, 2)}°`],
        ['rover', `x ${fixed(f.rover_x_m, 2)} m, y ${fixed(f.rover_y_m, 2)} m, ` +
          `heading ${fixed(f.rover_heading_deg, 1)}°`],
        ['size (px)', `${f.width_px} × ${f.height_px}`]];
      detail.replaceChildren(
        el('img', { class: 'lgs-image', src: k.url, alt: k.name }),
        el('table', { class: 'lgs-image-meta' },
          ...rows.map(([name, value]) => el('tr', {}, el('th', {}, name), el('td', {}, value ?? '')))));
    };
    return pollingView(root, 1000, async () => {
      let answer;
      try {
        answer = await getJson('/api/products?limit=50');
      } catch (e) {
        if (e.status === 404) {
          root.replaceChildren(el('div', { class: 'lgs-muted' },
            'This station keeps no products (start it with --products DIR).'));
          return;
        }
        throw e;
      }
      const active = answer.transfers.filter((t) => t.state === 'receiving' || t.state === 'finishing');
      transfers.replaceChildren(active.length === 0
        ? el('div', { class: 'lgs-muted' }, 'No file is coming down.')
        : el('table', {},
          el('tr', {}, ...['transfer', 'file', 'camera', 'progress', 'size', 'rate', 'ETA'].map((h) => el('th', {}, h))),
          ...active.map((t) => {
            const fraction = t.progress ?? 0;
            return el('tr', { class: 'lgs-transfer', 'data-transfer-id': t.id },
              el('td', {}, t.id), el('td', {}, t.name || '(metadata not yet in)'),
              el('td', {}, t.camera || '–'),
              el('td', {}, el('progress', { max: '1', value: String(fraction) }),
                ` ${(100 * fraction).toFixed(1)} %`),
              el('td', {}, t.size === null ? '?' : octets(t.size)),
              el('td', {}, `${octets(t.rate_bps)}/s`),
              el('td', { class: 'lgs-eta' }, t.state === 'finishing' ? 'checking'
                : t.eta_s === null ? (t.stalled ? 'stalled' : '–') : seconds(t.eta_s)));
          })));
      const now = JSON.stringify(answer.kept.map((k) => k.name));
      if (now !== shownKept) {
        shownKept = now;
        kept.replaceChildren(...answer.kept.map((k) =>
          el('figure', { class: 'lgs-thumb', 'data-product': k.name, onclick: () => show(k) },
            /\.(jpe?g|png)$/.test(k.name) ? el('img', { src: k.url, alt: k.name, loading: 'lazy' }) : '',
            el('figcaption', {}, k.name))));
        const again = answer.kept.find((k) => k.name === chosen) || answer.kept[0];
        if (again && again.name !== chosen) show(again);
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // The operator console: the rover's state at a glance, the mission clock, the power panel and
  // the timeline, and the overview that puts them beside the map, alarms and commands.
  const isoUtc = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const clockUtc = (ms) => new Date(ms).toISOString().slice(11, 19);
  const clockUtcMs = (ms) => new Date(ms).toISOString().slice(11, 23);
  function elapsed(s) {
    const sign = s < 0 ? '−' : '+';
    let t = Math.floor(Math.abs(s));
    const d = Math.floor(t / 86400);
    t -= d * 86400;
    const pad = (n) => String(n).padStart(2, '0');
    return `T${sign} ${d}d ${pad(Math.floor(t / 3600))}:${pad(Math.floor((t % 3600) / 60))}:${pad(t % 60)}`;
  }
  const age = (s) => (s === null || s === undefined ? 'never' : s < 1 ? `${Math.round(s * 1000)} ms` : seconds(s));
  const signed = (v, digits) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

  // The realtime WebSocket, one per page, shared by the telemetry provider and our views.
  let sharedRealtime = null;
  const realtimeClient = () => (sharedRealtime = sharedRealtime || new RealtimeClient());

  // The banner and the clock: /api/state every second (the UTC clock ticks on its own).
  function stateView(element) {
    const chip = (cls, label) => {
      const value = el('span', { class: 'lgs-chip-value' });
      const node = el('div', { class: `lgs-chip ${cls}` }, el('span', { class: 'lgs-chip-label' }, label), value);
      node.value = value;
      return node;
    };
    const mode = chip('lgs-chip-mode', 'mode');
    const battery = chip('lgs-chip-battery', 'battery');
    const power = chip('lgs-chip-power', 'power');
    const activity = chip('lgs-chip-activity', 'running');
    const lastCommand = chip('lgs-chip-command', 'last command');
    const hazard = chip('lgs-chip-hazard', 'hazard');
    const streams = el('div', { class: 'lgs-streams' });
    const banner = el('div', { class: 'lgs-banner' }, mode, battery, power, activity, lastCommand,
      hazard, streams);
    const utc = chip('lgs-clock-utc', 'UTC');
    const scet = chip('lgs-clock-scet', 'SCET');
    const met = chip('lgs-clock-met', 'MET');
    const light = chip('lgs-clock-light', 'one-way light');
    const arrives = chip('lgs-clock-arrives', 'a command sent now arrives');
    const sun = chip('lgs-clock-sun', 'sun at the rover');
    const sunlight = chip('lgs-clock-sunlight', 'sunlight');
    const relay = chip('lgs-clock-relay', 'relay');
    const clock = el('div', { class: 'lgs-clock' }, utc, scet, met, light, arrives, sun, sunlight, relay);
    const root = el('div', { class: 'lgs-view lgs-state' }, banner, clock);
    element.append(root);
    let state = null;
    const tick = () => {
      const now = Date.now();
      utc.value.textContent = isoUtc(now);
      if (state) {
        arrives.value.textContent = `${clockUtc(now + 1000 * state.clock.light_time_s)} UTC`;
      }
    };
    const ticker = setInterval(tick, 1000);
    const stop = pollingView(el('div'), 1000, async () => {
      try {
        state = await getJson('/api/state');
      } catch (e) {
        banner.dataset.error = e.message;
        mode.value.textContent = 'station not answering';
        mode.className = 'lgs-chip lgs-chip-mode lgs-stale';
        return;
      }
      delete banner.dataset.error;
      scetClock.heardFrom(state.clock);  // the on-board clock's rate, for any view in SCET
      const r = state.rover;
      const hk = r.housekeeping;
      mode.value.textContent = r.mode || 'no telemetry yet';
      mode.className = `lgs-chip lgs-chip-mode lgs-mode-${(r.mode || 'none').toLowerCase()}`;
      root.dataset.mode = r.mode || '';
      if (hk) {
        const trend = hk.soc_trend_percent_per_h;
        battery.value.textContent = `${hk.battery_soc_percent.toFixed(1)} %` +
          (trend === null ? ' (trend after a minute)' : ` ${trend >= 0 ? '▲' : '▼'} ${signed(trend, 1)} %/h`);
        battery.classList.toggle('lgs-warning', hk.battery_soc_percent < 30);
        power.value.textContent = `in ${hk.solar_power_w.toFixed(1)} W · out ${hk.load_power_w.toFixed(1)} W · ` +
          `${signed(hk.power_balance_w, 1)} W`;
        power.classList.toggle('lgs-warning', hk.power_balance_w < 0);
        root.dataset.soc = String(hk.battery_soc_percent);
        root.dataset.housekeepingOnboardNs = String(hk.onboard_ns);
        battery.classList.toggle('lgs-stale', r.streams.housekeeping.stale);
        power.classList.toggle('lgs-stale', r.streams.housekeeping.stale);
      } else {
        battery.value.textContent = '–';
        power.value.textContent = '–';
      }
      const c = state.commands;
      activity.value.textContent = !c.enabled ? 'not commanding' : c.running
        ? `#${c.running.command_id} ${c.running.name} ${c.running.stage}` : 'idle';
      lastCommand.value.textContent = c.last ? `#${c.last.command_id} ${c.last.name} ${c.last.stage}` : 'none';
      lastCommand.classList.toggle('lgs-critical', Boolean(c.last && /failed|timed_out/.test(c.last.stage)));
      lastCommand.classList.toggle('lgs-warning', Boolean(c.last && c.last.stage === 'rejected'));
      const held = r.hazard_stop.active;
      hazard.value.textContent = r.safe ? `${r.mode}: the rover is protecting itself`
        : held ? `STOPPED: ${r.hazard_stop.message}` : 'clear';
      hazard.classList.toggle('lgs-critical', held || r.safe);
      streams.replaceChildren(...Object.entries(r.streams).filter(([, s]) => s.packets > 0)
        .map(([name, s]) => el('span', { class: `lgs-stream${s.stale ? ' lgs-stale' : ''}`,
          'data-stream': name, title: `${s.packets} packets; nominal ${s.nominal_rate_hz} Hz` },
        `${name} ${age(s.age_s)}`)));
      const k = state.clock;
      scet.value.textContent = k.scet_ns ? isoUtc(k.scet_ns / 1e6) : 'no telemetry yet';
      root.dataset.scetNs = k.scet_ns ? String(k.scet_ns) : '';
      met.value.textContent = k.met_s === null ? '–' : elapsed(k.met_s);
      met.title = 'mission elapsed time, on board: the newest packet since the first this station saw';
      light.value.textContent = `${k.light_time_s.toFixed(2)} s`;
      root.dataset.lightTimeS = String(k.light_time_s);
      sun.value.textContent = r.sun ? `elevation ${r.sun.elevation_deg.toFixed(1)}°, azimuth ` +
        `${r.sun.azimuth_deg.toFixed(0)}° (camera record)` : 'no camera record yet';
      // The plans, evaluated at the newest on-board time (times are SCET; the date too when it
      // is not the newest packet's).
      const scetText = (ns) => {
        const iso = new Date(ns / 1e6).toISOString();
        const sameDay = k.scet_ns && iso.slice(0, 10) === new Date(k.scet_ns / 1e6).toISOString().slice(0, 10);
        return `SCET ${sameDay ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`}`;
      };
      const sunPlan = k.sun_schedule;
      sunlight.value.textContent = !k.sun_schedule_configured ? 'no illumination plan (--sun-schedule)'
        : !sunPlan ? 'no telemetry yet'
          : !sunPlan.covered ? `beyond the plan (it ends ${scetText(sunPlan.until_scet_ns)})`
            : sunPlan.in_shadow ? `IN SHADOW · sun back ${sunPlan.next_return_scet_ns ? `${scetText(sunPlan.next_return_scet_ns)} (in ${seconds(sunPlan.return_in_s)})` : 'not within the plan'}`
              : sunPlan.next_loss_scet_ns ? `sunlit · next loss of sun ${scetText(sunPlan.next_loss_scet_ns)} (in ${seconds(sunPlan.loss_in_s)})`
                : 'sunlit · no loss of sun within the plan';
      sunlight.classList.toggle('lgs-warning', Boolean(sunPlan && sunPlan.covered &&
        (sunPlan.in_shadow || (sunPlan.loss_in_s !== null && sunPlan.loss_in_s < 3600))));
      root.dataset.nextLossOfSunScetNs = sunPlan && sunPlan.next_loss_scet_ns ? String(sunPlan.next_loss_scet_ns) : '';
      root.dataset.inShadow = sunPlan ? String(sunPlan.in_shadow) : '';
      const plan = k.link_schedule;
      relay.value.textContent = !k.link_schedule_configured ? 'no pass plan (--link-schedule)'
        : !plan ? 'no telemetry yet'
          : plan.in_outage ? `OUT OF VIEW · back ${plan.next_aos_scet_ns ? `${scetText(plan.next_aos_scet_ns)} (in ${seconds(plan.aos_in_s)})` : 'not planned'}`
            : plan.next_los_scet_ns ? `in view · next loss ${scetText(plan.next_los_scet_ns)} (in ${seconds(plan.los_in_s)})`
              : 'in view · no loss planned';
      relay.classList.toggle('lgs-warning', Boolean(plan && (plan.in_outage || (plan.los_in_s !== null && plan.los_in_s < 600))));
      root.dataset.nextLosScetNs = plan && plan.next_los_scet_ns ? String(plan.next_los_scet_ns) : '';
      root.dataset.inOutage = plan ? String(plan.in_outage) : '';
      tick();
    });
    tick();
    return () => {
      clearInterval(ticker);
      stop();
    };
  }

  // A gap in a series: longer than 5 times its typical spacing, and at least `floor` (5 s). Lines
  // are not drawn across one (between two runs, over a loss of signal).
  function gapThreshold(points, floor = 5000) {
    const d = [];
    for (let i = 1; i < points.length; ++i) d.push(points[i][0] - points[i - 1][0]);
    d.sort((a, b) => a - b);
    const typical = d.length ? d[Math.floor(d.length / 2)] : 0;
    return Math.max(floor, 5 * typical);
  }
  // The floor in a time system: 5 s of ground time, which is 5 s × the rate the on-board clock
  // was seen to run at in SCET (an emulated rover at 200× sends 1000 on-board seconds in 5 s, and
  // the live feed keeps the newest of each stream's samples per batch, not all of them).
  const gapFloor = (domain) => (domain === SCET ? 5000 * Math.max(1, scetClock.rate) : 5000);

  // The point that stands in a gap: Open MCT's plots join every point to the next and skip none
  // but a non-number.
  const gapPoint = (a, b) =>
    ({ key: a.key, utc: (a.utc + b.utc) / 2, scet: (a.scet + b.scet) / 2, value: NaN, gap: true });

  // Where each field's newest plotted history ended, and the gap for that series: a live point
  // that comes after a gap from it is not joined to it either. By time system and field.
  const plottedEnds = new Map();  // `${domain}:${key}` -> { utc, scet, gap }

  // Samples with a NaN point in each gap (gapThreshold) along `domain` ('utc' or 'scet', the
  // time conductor's time system), for Open MCT's plots.
  function withGaps(samples, domain = 'utc') {
    if (samples.length < 2 || typeof samples[0].value !== 'number') return samples;
    const gap = gapThreshold(samples.map((d) => [d[domain]]), gapFloor(domain));
    const out = [samples[0]];
    for (let i = 1; i < samples.length; ++i) {
      const a = samples[i - 1], b = samples[i];
      if (b[domain] - a[domain] > gap) out.push(gapPoint(a, b));
      out.push(b);
    }
    const last = samples[samples.length - 1];
    const end = `${domain}:${last.key}`;
    const known = plottedEnds.get(end);
    if (!known || known[domain] <= last[domain]) {
      plottedEnds.set(end, { utc: last.utc, scet: last.scet, gap });
    }
    return out;
  }

  // Live points for a plot, with a NaN point before one that comes after a gap along `domain`:
  // a stream that falls silent while the plot is open is not joined across its silence when it
  // speaks again. The gap is gapThreshold over the last 32 points (or the plotted history's
  // until then). A played-back point (older on board than the newest) is never a gap's end.
  function liveGaps(key, domain = 'utc') {
    const recent = [];  // [time] of the last points given
    let last = null;
    return (data) => {
      if (!data.length || typeof data[0].value !== 'number') return data;
      const out = [];
      for (const d of data) {
        let gap = gapThreshold(recent, gapFloor(domain));  // the floor until there are points
        if (!last) {
          const plotted = plottedEnds.get(`${domain}:${key}`);
          if (plotted && plotted[domain] < d[domain]) {
            last = { key, utc: plotted.utc, scet: plotted.scet };
            gap = plotted.gap;
          }
        }
        if (last && d[domain] - last[domain] > gap) out.push(gapPoint(last, d));
        out.push(d);
        if (!last || d[domain] > last[domain]) {
          last = d;
          recent.push([d[domain]]);
          if (recent.length > 32) recent.shift();
        }
      }
      return out;
    };
  }

  // Battery and power: the state of charge over the range above, power in (solar) and out
  // (load) overlaid below with a legend; history from /api/history (minmax at the canvas'
  // resolution), live points over the WebSocket; gaps drawn as gaps.
  const POWER_SERIES = [
    { key: 'housekeeping.battery_soc_percent', name: 'battery state of charge', unit: '%', strip: 0, colour: '#4fc3f7' },
    { key: 'housekeeping.solar_power_w', name: 'power in (solar)', unit: 'W', strip: 1, colour: '#ffd54f' },
    { key: 'housekeeping.load_power_w', name: 'power out (load)', unit: 'W', strip: 1, colour: '#ff8a65' }
  ];
  function powerView(element, openmct) {
    const canvas = el('canvas', { class: 'lgs-power-canvas' });
    const legend = el('div', { class: 'lgs-legend' }, ...POWER_SERIES.map((s) =>
      el('span', { class: 'lgs-legend-item' }, el('span', { class: 'lgs-swatch', style: `background:${s.colour}` }),
        `${s.name} (${s.unit})`)));
    const stage = el('div', { class: 'lgs-power-stage' }, canvas);
    const root = el('div', { class: 'lgs-view lgs-power' }, legend, stage);
    element.append(root);
    // The time conductor's time system: ground receipt (utc) or on board (scet).
    let domain = timeDomain(openmct);
    const axisName = el('span', { class: 'lgs-legend-item lgs-power-axis' });
    legend.append(axisName);
    const nameAxis = () => {
      axisName.textContent = domain === SCET ? 'time: SCET (on board)' : 'time: UTC (received)';
      root.dataset.domain = domain;
    };
    nameAxis();
    const data = new Map(POWER_SERIES.map((s) => [s.key, []]));  // key -> [[time, value]]
    const unsubscribe = POWER_SERIES.map((s) => realtimeClient().subscribe(s.key, (batch) => {
      const list = data.get(s.key);
      for (const d of batch) {
        const t = d[domain];
        if (!list.length || t > list[list.length - 1][0]) {
          list.push([t, d.value]);
        } else {
          // Played back (older on board than the newest): where it was taken.
          let i = list.length;
          while (i > 0 && list[i - 1][0] > t) --i;
          if (i === 0 || list[i - 1][0] !== t) list.splice(i, 0, [t, d.value]);
        }
      }
      scheduleDraw();
    }));
    let drawPending = false;
    const scheduleDraw = () => {
      if (drawPending) return;
      drawPending = true;
      requestAnimationFrame(() => { drawPending = false; draw(); });
    };
    let loadedFor = '';
    const load = async () => {
      const b = openmct.time.getBounds();
      const key = `${Math.floor(b.start / 1000)}:${Math.floor(b.end / 1000)}`;
      if (openmct.time.isRealTime() && loadedFor) return;  // live points keep it current
      if (key === loadedFor) return;
      loadedFor = key;
      const size = Math.max(50, Math.min(2000, canvas.width || 600));
      await Promise.all(POWER_SERIES.map(async (s) => {
        const params = new URLSearchParams({ key: s.key, start: Math.max(0, Math.floor(b.start)),
          end: Math.ceil(b.end), strategy: 'minmax', size });
        if (domain === SCET) params.set('time', 'onboard');
        const samples = await getJson(`/api/history?${params}`);
        const fresh = samples.map((d) => [d[domain], d.value]);
        const live = data.get(s.key).filter((p) => !fresh.length || p[0] > fresh[fresh.length - 1][0]);
        data.set(s.key, fresh.concat(live));
      }));
      draw();
    };
    const onTimeSystem = () => {
      domain = timeDomain(openmct);
      nameAxis();
      data.forEach((list, k) => data.set(k, []));
      loadedFor = '';
      load().catch(() => {});
    };
    const stopBounds = () => {
      openmct.time.off('bounds', onBounds);
      openmct.time.off('timeSystem', onTimeSystem);
    };
    const onBounds = (bounds, tick) => {
      if (!tick) loadedFor = '';
      if (!tick) load().catch(() => {});
      scheduleDraw();
    };
    openmct.time.on('bounds', onBounds);
    openmct.time.on('timeSystem', onTimeSystem);
    const draw = () => {
      const w = Math.max(200, stage.clientWidth || 400);
      const h = Math.max(120, stage.clientHeight || 200);
      if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
      const ctx = canvas.getContext('2d');
      ctx.clearRect(0, 0, w, h);
      const b = openmct.time.getBounds();
      const left = 46, right = 8, axis = 16;
      const strips = [[4, Math.round(h * 0.38)], [Math.round(h * 0.38) + 10, h - axis - 2]];
      const x = (t) => left + (t - b.start) / Math.max(1, b.end - b.start) * (w - left - right);
      ctx.font = '10px sans-serif';
      ctx.fillStyle = '#aaa';
      ctx.strokeStyle = '#444';
      // Time axis: four labels.
      for (let i = 0; i <= 4; ++i) {
        const t = b.start + (i / 4) * (b.end - b.start);
        const px = x(t);
        ctx.beginPath(); ctx.moveTo(px, strips[0][0]); ctx.lineTo(px, strips[1][1]); ctx.stroke();
        ctx.textAlign = i === 0 ? 'left' : i === 4 ? 'right' : 'center';
        ctx.fillText(clockUtc(t), px, h - 4);
      }
      const segmentsBySeries = {};
      strips.forEach(([top, bottom], strip) => {
        const series = POWER_SERIES.filter((s) => s.strip === strip);
        let lo = Infinity, hi = -Infinity;
        series.forEach((s) => data.get(s.key).forEach(([t, v]) => {
          if (t >= b.start && t <= b.end) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        }));
        if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
        if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
        const pad = 0.05 * (hi - lo);
        lo -= pad; hi += pad;
        const y = (v) => bottom - (v - lo) / (hi - lo) * (bottom - top);
        ctx.strokeStyle = '#666';
        ctx.strokeRect(left, top, w - left - right, bottom - top);
        ctx.fillStyle = '#aaa';
        ctx.textAlign = 'right';
        ctx.fillText(`${hi.toFixed(1)} ${series[0].unit}`, left - 3, top + 9);
        ctx.fillText(`${lo.toFixed(1)}`, left - 3, bottom);
        series.forEach((s) => {
          const points = data.get(s.key).filter(([t]) => t >= b.start - 60000 && t <= b.end);
          const gap = gapThreshold(points);
          ctx.strokeStyle = s.colour;
          ctx.lineWidth = 1.5;
          let segments = 0;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, w - left - right, bottom - top);
          ctx.clip();
          ctx.beginPath();
          points.forEach(([t, v], i) => {
            if (i === 0 || t - points[i - 1][0] > gap) { ctx.moveTo(x(t), y(v)); ++segments; } else ctx.lineTo(x(t), y(v));
          });
          ctx.stroke();
          ctx.restore();
          segmentsBySeries[s.key] = segments;
        });
      });
      root.dataset.segments = JSON.stringify(segmentsBySeries);
      root.dataset.points = JSON.stringify(Object.fromEntries([...data].map(([k, v]) => [k, v.length])));
    };
    const resize = new ResizeObserver(() => scheduleDraw());
    resize.observe(stage);
    const timer = setInterval(() => {
      // Live: drop what fell out of the range; redraw so the axis moves with the clock.
      const start = openmct.time.getBounds().start - 60000;
      data.forEach((list, k) => { const i = list.findIndex((p) => p[0] >= start); data.set(k, i < 0 ? [] : list.slice(i)); });
      scheduleDraw();
    }, 1000);
    load().catch((e) => { root.dataset.error = e.message; });
    root.lgsPower = { draw, data };
    return () => {
      clearInterval(timer);
      stopBounds();
      resize.disconnect();
      unsubscribe.forEach((u) => u());
    };
  }

  // The timeline: rover events, alarm transitions and command stages on one time axis (the time
  // conductor's), one lane each, filterable by kind and severity, with one row per entry below
  // (newest first). From the recordings (/api/timeline), which hold the live ones within a
  // second or two; in real time it asks again every 2 s.
  const SEVERITIES = ['info', 'warning', 'critical'];
  const KINDS = ['event', 'alarm', 'command'];
  function timelineView(element, openmct, compact, only) {
    const kinds = {};
    const filters = el('div', { class: 'lgs-timeline-filters' },
      ...KINDS.map((k) => {
        kinds[k] = el('input', { type: 'checkbox', name: `kind-${k}` });
        kinds[k].checked = !only || only === k;
        kinds[k].addEventListener('change', () => refresh());
        return el('label', {}, kinds[k], `${k}s`);
      }));
    const severity = el('select', { name: 'severity' },
      ...SEVERITIES.map((s) => el('option', { value: s }, s === 'info' ? 'all severities' : `${s} and worse`)));
    severity.addEventListener('change', () => refresh());
    filters.append(severity);
    const lanes = el('div', { class: 'lgs-timeline-lanes' });
    const list = el('div', { class: 'lgs-timeline-list' });
    const root = el('div', { class: `lgs-view lgs-timeline${compact ? ' lgs-compact' : ''}` }, filters, lanes, list);
    element.append(root);
    let entries = [];
    let shown = '';
    const colour = { info: '#8fa8c8', warning: '#ffb700', critical: '#ff4b4b' };
    // In the SCET time system an event is placed at its on-board time; an alarm or a command
    // stage (the station's, with no on-board time) at the SCET the clock correlation gives for
    // when it happened, and marked as estimated.
    let domain = timeDomain(openmct);
    const at = (e) => (domain === SCET ? (e.scet ?? scetOfGround(e.utc)) : e.utc);
    const estimated = (e) => domain === SCET && e.scet === undefined;
    const drawLanes = () => {
      const b = openmct.time.getBounds();
      const w = Math.max(200, lanes.clientWidth || 400);
      const laneH = 16, left = 62, right = 6;
      const x = (t) => left + (t - b.start) / Math.max(1, b.end - b.start) * (w - left - right);
      const h = laneH * KINDS.length + 16;
      const parts = [];
      KINDS.forEach((k, i) => {
        const y = i * laneH + laneH / 2;
        parts.push(svg('text', { x: 2, y: y + 4, class: 'lgs-lane-label' }, `${k}s`));
        parts.push(svg('line', { x1: left, x2: w - right, y1: y, y2: y, class: 'lgs-lane-line' }));
      });
      // A command's stages joined by a line, so its progress from queued to its end reads as one.
      const byCommand = new Map();
      entries.filter((e) => e.kind === 'command').forEach((e) => {
        if (!byCommand.has(e.command_id)) byCommand.set(e.command_id, []);
        byCommand.get(e.command_id).push(e);
      });
      byCommand.forEach((stages) => {
        const y = 2 * laneH + laneH / 2;
        parts.push(svg('line', { x1: x(at(stages[0])), x2: x(at(stages[stages.length - 1])), y1: y, y2: y,
          class: 'lgs-command-span' }));
      });
      entries.forEach((e) => {
        const px = x(at(e));
        if (px < left - 1 || px > w - right + 1) return;
        const y = KINDS.indexOf(e.kind) * laneH + laneH / 2;
        parts.push(svg('circle', { cx: px, cy: y, r: e.severity === 'info' ? 3 : 4.5, fill: colour[e.severity],
          class: `lgs-mark lgs-mark-${e.kind}`, 'data-kind': e.kind, 'data-name': e.name },
        svg('title', {}, `${estimated(e) ? '~' : ''}${clockUtcMs(at(e))} ${e.name}${e.state ? ` ${e.state}` : ''}: ${e.message}`)));
      });
      for (let i = 0; i <= 4; ++i) {
        const t = b.start + (i / 4) * (b.end - b.start);
        parts.push(svg('text', { x: x(t), y: h - 3, class: 'lgs-axis-label',
          'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, clockUtc(t)));
      }
      lanes.replaceChildren(svg('svg', { width: w, height: h, class: 'lgs-timeline-svg' }, ...parts));
    };
    const drawList = () => {
      const now = JSON.stringify(entries);
      if (now === shown) return;
      shown = now;
      const rows = entries.slice().reverse().slice(0, compact ? 200 : 2000);
      list.replaceChildren(el('table', {},
        el('tr', {}, ...[domain === SCET ? 'time (SCET, ~ estimated)' : 'time (UTC)', 'severity', 'kind',
          'what', 'message'].map((h) => el('th', {}, h))),
        ...rows.map((e) => el('tr', { class: `lgs-timeline-row lgs-${e.severity}`, 'data-kind': e.kind,
          'data-name': e.name, 'data-state': e.state || '', 'data-command-id': e.command_id ?? '',
          'data-utc': e.utc, 'data-at': at(e) },
        el('td', { class: 'lgs-nowrap' }, `${estimated(e) ? '~' : ''}${clockUtcMs(at(e))}`),
        el('td', { class: 'lgs-nowrap' }, e.severity),
        el('td', { class: 'lgs-nowrap' }, e.kind),
        el('td', {}, e.kind === 'command' ? `#${e.command_id} ${e.name} ${e.state}`
          : e.kind === 'alarm' ? `${e.name} ${e.state}` : e.name),
        el('td', { class: 'lgs-wrap' }, e.message)))));
      root.dataset.entries = String(entries.length);
    };
    let fetchedFor = '';
    const refresh = async () => {
      domain = timeDomain(openmct);
      root.dataset.domain = domain;
      let b = openmct.time.getBounds();
      if (domain === SCET) {
        // The recordings are kept by ground time: the SCET range asked by the correlation.
        try {
          scetClock.heardFrom((await getJson('/api/state')).clock);
        } catch (e) {
          // Asked again at the next refresh; the last correlation stands.
        }
        b = { start: groundOfScet(b.start), end: groundOfScet(b.end) };
      }
      const chosen = KINDS.filter((k) => kinds[k].checked);
      const query = new URLSearchParams({ start: Math.max(0, Math.floor(b.start)), end: Math.ceil(b.end),
        severity: severity.value, limit: compact ? 500 : 5000 });
      if (chosen.length < KINDS.length) query.set('kinds', chosen.join(','));
      const settled = !openmct.time.isRealTime() && b.end < Date.now() - 60000;
      if (settled && query.toString() === fetchedFor) return;
      if (chosen.length === 0) {
        entries = [];
      } else {
        entries = (await getJson(`/api/timeline?${query}`)).entries;
      }
      fetchedFor = query.toString();
      drawLanes();
      drawList();
    };
    const stop = pollingView(el('div'), 2000, refresh);
    const resize = new ResizeObserver(() => drawLanes());
    resize.observe(lanes);
    return () => {
      stop();
      resize.disconnect();
    };
  }

  // The operations overview: the banner and clock on top, then the map, power, timeline, alarms
  // and commands, in a grid that reflows to the space it has (three columns when wide, two when
  // not), so nothing is clipped or laid over another at 1280×800 or 1920×1080.
  function overviewView(element, openmct) {
    const panel = (area, title, make) => {
      const body = el('div', { class: 'lgs-panel-body' });
      const node = el('section', { class: `lgs-panel lgs-area-${area}`, 'data-panel': area },
        title ? el('h2', { class: 'lgs-panel-title' }, title) : '', body);
      return { node, start: () => make(body, openmct) };
    };
    const panels = [
      panel('state', '', stateView),
      panel('map', 'Traverse map', traverseView),
      panel('power', 'Battery and power', powerView),
      panel('timeline', 'Timeline: events, alarms, commands', (e, o) => timelineView(e, o, true)),
      panel('alarms', 'Alarms', alarmsView),
      panel('commands', 'Commands', commandsView)
    ];
    const root = el('div', { class: 'lgs-overview' }, ...panels.map((p) => p.node));
    element.append(el('div', { class: 'lgs-overview-host' }, root));
    const stops = panels.map((p) => p.start());
    return () => stops.forEach((s) => s && s());
  }

  function addView(openmct, type, name, cssClass, make) {
    openmct.types.addType(type, { name, cssClass, creatable: false });
    openmct.objectViews.addProvider({
      key: `${type}.view`,
      name,
      cssClass,
      canView: (domainObject) => domainObject.type === type,
      view: () => {
        let stop;
        return {
          show(element) {
            stop = make(element, openmct);
          },
          destroy() {
            if (stop) stop();
          }
        };
      }
    });
  }

  // The on-board clock: the rover's clock as the station last heard it (/api/state's newest
  // SCET and when it came), run on at the rate the station measured it at (an emulated rover's
  // clock runs --speed times faster than the ground's), so a real-time window in SCET moves on
  // over a loss of signal as a UTC one does. Before the first telemetry it holds at the page's
  // start.
  class ScetClock {
    constructor() {
      this.key = SCET_CLOCK;
      this.name = 'On-board clock (SCET)';
      this.cssClass = 'icon-clock';
      this.description = "The rover's clock: the newest on-board time received, run on at its rate.";
      this.listeners = new Map();
      this.lastTick = Date.now();
      this.latest = null;     // { scet, received } of the newest SCET the station reported
      this.rate = 1;          // on-board ms per ground ms
      this.measured = false;  // the rate is the station's measurement
      this.timer = null;
      this.poll = null;
    }
    on(event, callback) {
      if (!this.listeners.has(event)) this.listeners.set(event, new Set());
      this.listeners.get(event).add(callback);
      if (event === 'tick' && !this.timer) this.start();
      return this;
    }
    off(event, callback) {
      const set = this.listeners.get(event);
      if (set) set.delete(callback);
      if (event === 'tick' && (!set || set.size === 0)) this.stop();
      return this;
    }
    emit(event, value) {
      (this.listeners.get(event) || []).forEach((callback) => callback(value));
    }
    currentValue() {
      return this.value();  // between ticks too: the bounds a view asks with are the newest
    }
    // The newest SCET the station has, and the rate the station measured the rover's clock at
    // (/api/state's clock.scet_rate; 1 until it has).
    heardFrom(clock) {
      if (!clock || !clock.scet_ns || !clock.scet_received_ns) return;
      this.latest = { scet: clock.scet_ns / 1e6, received: clock.scet_received_ns / 1e6 };
      if (typeof clock.scet_rate === 'number' && clock.scet_rate > 0) {
        this.rate = clock.scet_rate;
        this.measured = true;
      }
    }
    value() {
      if (!this.latest) return this.lastTick;
      return this.latest.scet + Math.max(0, Date.now() - this.latest.received) * this.rate;
    }
    start() {
      const ask = async () => {
        try {
          this.heardFrom((await getJson('/api/state')).clock);
        } catch (e) {
          // The station is restarting: the clock runs on from what it heard.
        }
      };
      ask();
      this.poll = setInterval(ask, 1000);
      this.timer = setInterval(() => {
        this.lastTick = this.value();
        // Bounds set before the clock knew the rover's time (the page's start: the conductor
        // begins on the first menu entry's clock), or a clock that jumped (a rover that rebooted):
        // set again from the clock, which is not a tick, so every view asks its history again.
        const time = this.openmct && this.openmct.time;
        if (time && time.getClock() === this) {
          const offsets = time.getClockOffsets();
          const off = Math.abs(time.getBounds().end - offsets.end - this.lastTick);
          if (off > 5000 * Math.max(1, this.rate)) {
            time.setClockOffsets(offsets);
            return;
          }
        }
        this.emit('tick', this.lastTick);
      }, 250);
    }
    stop() {
      clearInterval(this.timer);
      clearInterval(this.poll);
      this.timer = this.poll = null;
    }
  }

  // One clock for the page: the time conductor's, and the correlation of on-board time with
  // ground time the timeline uses in SCET.
  const scetClock = new ScetClock();
  // Ground time (ms) <-> on-board time (ms) from the newest SCET heard and the rate measured: a
  // linear time correlation, as a mission keeps one (offset and drift).
  const scetOfGround = (ms) => (scetClock.latest
    ? scetClock.latest.scet + (ms - scetClock.latest.received) * scetClock.rate : ms);
  const groundOfScet = (ms) => (scetClock.latest
    ? scetClock.latest.received + (ms - scetClock.latest.scet) / scetClock.rate : ms);

  window.LunarGroundStationTime = function LunarGroundStationTime() {
    return function install(openmct) {
      openmct.time.addTimeSystem({
        key: SCET,
        name: 'SCET (on-board time)',
        cssClass: 'icon-clock',
        timeFormat: 'utc',
        durationFormat: 'duration',
        isUTCBased: true
      });
      scetClock.openmct = openmct;
      openmct.time.addClock(scetClock);
    };
  };

  // ---------------------------------------------------------------------------------------
  window.LunarGroundStation = function LunarGroundStation() {
    return function install(openmct) {
      const objectsPromise = Promise.all([
        getJson('/api/dictionary'),
        getJson('/api/commands/dictionary').catch(() => [])
      ]).then(([dictionary, commands]) => buildObjects(dictionary, camerasOf(commands)));

      openmct.objects.addRoot({ namespace: NAMESPACE, key: 'rover' });
      openmct.objects.addProvider(NAMESPACE, {
        get: (identifier) =>
          objectsPromise.then((objects) => {
            const object = objects.get(identifier.key);
            if (!object) throw new Error(`no object ${identifier.key}`);
            return structuredClone(object);
          })
      });

      openmct.types.addType(TELEMETRY_TYPE, {
        name: 'Rover telemetry field',
        description: 'One field of a rover telemetry stream, from the station.',
        cssClass: 'icon-telemetry'
      });

      openmct.telemetry.addProvider({
        supportsRequest: (d) => d.type === TELEMETRY_TYPE && Boolean(d.lgs),
        request: async (d, options) => {
          const params = new URLSearchParams({
            key: d.lgs.key,
            start: Math.max(0, Math.floor(options.start)),
            end: Math.max(0, Math.ceil(options.end))
          });
          if (options.strategy === 'latest' || options.strategy === 'minmax') {
            params.set('strategy', options.strategy);
            if (options.strategy === 'minmax' && options.size) params.set('size', options.size);
          }
          // In the SCET time system the range, order and buckets are on-board time.
          const domain = options.domain === SCET ? SCET : 'utc';
          if (domain === SCET) params.set('time', 'onboard');
          const samples = await getJson(`/api/history?${params}`, { signal: options.signal });
          // Plots ask for minmax: a NaN point where the data stops (between two runs, over a
          // loss of signal) keeps Open MCT from drawing a line across the gap.
          return options.strategy === 'minmax' ? withGaps(samples, domain) : samples;
        },
        supportsSubscribe: (d) => d.type === TELEMETRY_TYPE && Boolean(d.lgs),
        supportsBatching: () => true,
        subscribe: (d, callback, options) => {
          const batch = options && options.strategy === openmct.telemetry.SUBSCRIBE_STRATEGY.BATCH;
          // Open MCT 4.2's plot subscribes with filters and the batch strategy only; its tables
          // add their sort order (and a size), and get no gap points. A subscriber for the latest
          // datum gets the newest, never a gap point.
          const plot = batch && !('order' in options) && !('size' in options);
          const gaps = plot ? liveGaps(d.lgs.key, timeDomain(openmct)) : (data) => data;
          return realtimeClient().subscribe(d.lgs.key, (data) =>
            batch ? callback(gaps(data)) : callback(data[data.length - 1]));
        },
        supportsLimits: (d) => d.type === TELEMETRY_TYPE && Boolean(d.lgs && d.lgs.limits),
        getLimitEvaluator: (d) => limitEvaluator(d.lgs.limits),
        getLimits: (d) => ({ limits: () => Promise.resolve(limitLines(d.lgs.limits)) })
      });

      openmct.types.addType(IMAGERY_TYPE, {
        name: 'Camera images',
        description: 'The images one camera took, as the station kept them (CFDP downlink).',
        cssClass: 'icon-image'
      });
      // Images: history from the kept products; live ones by asking for what is newer every
      // two seconds (an image arrives every few seconds at most).
      // In the SCET time system history asks by on-board time (the camera record's); what is
      // new is asked by ground time, when it came.
      const imagesUrl = (camera, start, end, domain = 'utc') =>
        `/api/images?${new URLSearchParams({ camera, start: Math.max(0, Math.floor(start)),
          end: Math.max(0, Math.ceil(end)), ...(domain === SCET ? { time: 'onboard' } : {}) })}`;
      openmct.telemetry.addProvider({
        supportsRequest: (d) => d.type === IMAGERY_TYPE,
        request: (d, options) => getJson(imagesUrl(d.lgs.camera, options.start, options.end,
          options.domain), { signal: options.signal }).catch((e) => (e.status === 404 ? [] : Promise.reject(e))),
        supportsSubscribe: (d) => d.type === IMAGERY_TYPE,
        subscribe: (d, callback) => {
          let since = Date.now() - 5000;
          let stopped = false;
          const seen = new Set();
          const poll = async () => {
            try {
              for (const image of await getJson(imagesUrl(d.lgs.camera, since, Date.now() + 60000))) {
                if (seen.has(image.name)) continue;
                seen.add(image.name);
                since = Math.max(since, image.utc - 1);
                callback(image);
              }
            } catch (e) {
              // The station may keep no products, or be restarting: asked again.
            }
            if (!stopped) timer = setTimeout(poll, 2000);
          };
          let timer = setTimeout(poll, 0);
          return () => {
            stopped = true;
            clearTimeout(timer);
          };
        }
      });

      addView(openmct, 'lgs.traverse', 'Traverse map', 'icon-image', traverseView);
      addView(openmct, 'lgs.downlink', 'Images and files', 'icon-image', downlinkView);
      addView(openmct, 'lgs.science', 'Science: spectra and composition', 'icon-plot-overlay', scienceView);
      addView(openmct, 'lgs.link', 'Link status', 'icon-info', linkView);
      addView(openmct, 'lgs.alarms', 'Alarms', 'icon-alert-triangle', alarmsView);
      addView(openmct, 'lgs.commands', 'Commands', 'icon-command', commandsView);
      addView(openmct, 'lgs.overview', 'Operations overview', 'icon-layout', overviewView);
      addView(openmct, 'lgs.state', 'Rover state and mission clock', 'icon-info', stateView);
      addView(openmct, 'lgs.power', 'Battery and power', 'icon-plot-overlay', powerView);
      addView(openmct, 'lgs.timeline', 'Timeline: events, alarms, commands', 'icon-timeline',
        (e, o) => timelineView(e, o, false));
      addView(openmct, 'lgs.events', 'Events (one row each)', 'icon-list-view',
        (e, o) => timelineView(e, o, false, 'event'));
    };
  };
})();
