// The ground station's Open MCT plugin. Everything it shows comes from the station it is served
// by: the tree from /api/dictionary (generated from the protobuf descriptors and the limit file),
// history from /api/history (the MCAP recordings), live samples over the /api/realtime
// WebSocket, and the operator views (traverse map, link status, alarms, commands) from the rest
// of the HTTP API. Loaded by index.html after openmct.js; defines window.LunarGroundStation.
(function () {
  'use strict';

  const NAMESPACE = 'lgs';
  const TELEMETRY_TYPE = 'lgs.telemetry';
  const IMAGERY_TYPE = 'lgs.imagery';

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
        composition: children
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
    objects.set('plot.power', {
      identifier: id('plot.power'),
      name: 'Battery and power',
      type: 'telemetry.plot.stacked',
      location: `${NAMESPACE}:rover`,
      composition: [
        ...present('housekeeping.battery_soc_percent'),
        ...present('housekeeping.bus_voltage_v'),
        ...present('housekeeping.solar_power_w'),
        ...present('housekeeping.load_power_w')
      ],
      configuration: { series: [], yAxis: {}, xAxis: {} }
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
    const dose = present('radiation.dose_rate_ugy_per_h');
    const grid = (x, y, w, h) => ({ x, y, width: w, height: h });
    const item = (identifier, at, n) => ({
      ...at,
      identifier,
      hasFrame: true,
      fontSize: 'default',
      font: 'default',
      type: 'subobject-view',
      id: `lgs-item-${n}`
    });
    const layoutItems = [
      item(traverse, grid(0, 0, 40, 40), 1),
      ...(dose.length ? [item(dose[0], grid(40, 0, 45, 20), 2)] : []),
      item(id('plot.power'), grid(40, 20, 45, 20), 3),
      item(id('table.soil'), grid(85, 0, 35, 40), 4),
      item(link, grid(0, 40, 40, 28), 5),
      item(alarms, grid(40, 40, 45, 28), 6),
      item(commands, grid(85, 40, 35, 28), 7)
    ];
    objects.set('overview', {
      identifier: id('overview'),
      name: 'Operations overview',
      type: 'layout',
      location: `${NAMESPACE}:rover`,
      composition: layoutItems.map((i) => i.identifier),
      configuration: { items: layoutItems, layoutGrid: [10, 10] }
    });
    objects.set('rover', {
      identifier: id('rover'),
      name: `Rover ${dictionary.rover}`,
      type: 'folder',
      location: 'ROOT',
      composition: [id('overview'), traverse, link, alarms, commands, downlink, id('images'),
        id('plot.power'), id('table.soil'), ...subsystemIds]
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

  function traverseView(element, openmct) {
    const canvas = el('canvas', { class: 'lgs-map' });
    const caption = el('div', { class: 'lgs-muted lgs-map-caption' });
    const root = el('div', { class: 'lgs-view lgs-traverse' }, caption, canvas);
    element.append(root);
    const colours = { 1: '#d98f00', 2: '#d9534f', 3: '#666' };
    return pollingView(root, 2000, async () => {
      const bounds = openmct.time.getBounds();
      const data = await getJson(
        `/api/traverse?start=${Math.max(0, Math.floor(bounds.start))}&end=${Math.ceil(bounds.end)}`);
      const path = data.path;
      canvas.width = canvas.clientWidth || 400;
      canvas.height = Math.max(100, (canvas.clientHeight || 300) - 2);
      const g = canvas.getContext('2d');
      g.fillStyle = '#1e1e1e';
      g.fillRect(0, 0, canvas.width, canvas.height);
      const xs = path.map((p) => p[1]);
      const ys = path.map((p) => p[2]);
      const margin = 10;
      const minX = Math.min(...xs, -margin), maxX = Math.max(...xs, margin);
      const minY = Math.min(...ys, -margin), maxY = Math.max(...ys, margin);
      const scale = Math.min(canvas.width / (maxX - minX + 2 * margin),
        canvas.height / (maxY - minY + 2 * margin));
      const px = (x) => (x - minX + margin) * scale;
      const py = (y) => canvas.height - (y - minY + margin) * scale;
      for (const [x, y, size, kind] of data.hazards) {
        if (x + size < minX - margin || x > maxX + margin || y + size < minY - margin || y > maxY + margin) continue;
        g.fillStyle = colours[kind] || '#666';
        g.fillRect(px(x), py(y + size), Math.max(1, size * scale), Math.max(1, size * scale));
      }
      g.strokeStyle = '#4fc3f7';
      g.lineWidth = 2;
      g.beginPath();
      path.forEach(([, x, y], i) => (i ? g.lineTo(px(x), py(y)) : g.moveTo(px(x), py(y))));
      g.stroke();
      if (path.length) {
        const [, x, y] = path[path.length - 1];
        g.fillStyle = '#fff';
        g.beginPath();
        g.arc(px(x), py(y), 4, 0, 2 * Math.PI);
        g.fill();
        caption.textContent = `rover at x ${x.toFixed(2)} m, y ${y.toFixed(2)} m · ` +
          `${path.length} poses · ${data.hazards.length} hazard cells (orange slope, red rock)`;
      } else {
        caption.textContent = 'no navigation telemetry in the time range yet';
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
    if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} m`;
    if (s >= 60) return `${Math.floor(s / 60)} m ${Math.round(s % 60)} s`;
    return `${Math.round(s)} s`;
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

  // ---------------------------------------------------------------------------------------
  window.LunarGroundStation = function LunarGroundStation() {
    return function install(openmct) {
      const objectsPromise = Promise.all([
        getJson('/api/dictionary'),
        getJson('/api/commands/dictionary').catch(() => [])
      ]).then(([dictionary, commands]) => buildObjects(dictionary, camerasOf(commands)));
      let realtime;

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
          return getJson(`/api/history?${params}`, { signal: options.signal });
        },
        supportsSubscribe: (d) => d.type === TELEMETRY_TYPE && Boolean(d.lgs),
        supportsBatching: () => true,
        subscribe: (d, callback, options) => {
          realtime = realtime || new RealtimeClient();
          const batch = options && options.strategy === openmct.telemetry.SUBSCRIBE_STRATEGY.BATCH;
          return realtime.subscribe(d.lgs.key, (data) =>
            batch ? callback(data) : callback(data[data.length - 1]));
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
      const imagesUrl = (camera, start, end) =>
        `/api/images?${new URLSearchParams({ camera, start: Math.max(0, Math.floor(start)),
          end: Math.max(0, Math.ceil(end)) })}`;
      openmct.telemetry.addProvider({
        supportsRequest: (d) => d.type === IMAGERY_TYPE,
        request: (d, options) => getJson(imagesUrl(d.lgs.camera, options.start, options.end),
          { signal: options.signal }).catch((e) => (e.status === 404 ? [] : Promise.reject(e))),
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
      addView(openmct, 'lgs.link', 'Link status', 'icon-info', linkView);
      addView(openmct, 'lgs.alarms', 'Alarms', 'icon-alert-triangle', alarmsView);
      addView(openmct, 'lgs.commands', 'Commands', 'icon-command', commandsView);
    };
  };
})();
