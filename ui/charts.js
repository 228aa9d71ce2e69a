// Charts as plain SVG: a few dozen lines instead of a charting library, and nothing to build.

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** A rounded-up axis maximum (1, 2, 5 × 10^n) so gridline labels are readable. */
function niceMax(value) {
  if (value <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= value);
}

/**
 * Vertical bars, one group per bucket and one bar per series: `buckets` = [{ label, values: [n, ...] }],
 * `series` = [{ name, color }]. Every `labelEvery`-th bucket label is drawn under the axis.
 */
export function columnChart({ buckets, series, title, height = 180, labelEvery = 1 }) {
  const width = 720;
  const left = 36, right = 8, top = 10, bottom = 34;
  const max = niceMax(Math.max(0, ...buckets.flatMap((b) => b.values)));
  const plotW = width - left - right, plotH = height - top - bottom;
  const groupW = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, (groupW * 0.8) / series.length);
  const y = (v) => top + plotH - (v / max) * plotH;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  root.append(svg('title', {}, title));
  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid-line' }));
    root.append(svg('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  buckets.forEach((b, i) => {
    const x0 = left + i * groupW + groupW * 0.1;
    b.values.forEach((v, s) => {
      const h = top + plotH - y(v);
      root.append(svg('rect', { x: x0 + s * barW, y: y(v), width: barW, height: Math.max(0, h), fill: series[s].color, 'data-series': series[s].name, 'data-value': v }, svg('title', {}, `${b.label}: ${v} ${series[s].name}`)));
    });
    if (i % labelEvery === 0) root.append(svg('text', { x: x0 + (groupW * 0.8) / 2, y: height - bottom + 14, 'text-anchor': 'middle', class: 'axis' }, b.label));
  });
  const legend = svg('g', { class: 'legend' });
  series.forEach((s, i) => {
    legend.append(svg('rect', { x: left + i * 110, y: height - 12, width: 10, height: 10, fill: s.color }));
    legend.append(svg('text', { x: left + i * 110 + 14, y: height - 3, class: 'axis' }, s.name));
  });
  root.append(legend);
  return root;
}

/** Horizontal bars with their label and count: [{ label, count }], for value distributions. */
export function barList({ buckets, title, color = '#2f6fdb' }) {
  const rowH = 22, labelW = 190, width = 720, countW = 60;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const height = Math.max(rowH, buckets.length * rowH) + 4;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  root.append(svg('title', {}, title));
  buckets.forEach((b, i) => {
    const y = 2 + i * rowH;
    const w = ((width - labelW - countW) * b.count) / max;
    const label = b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label;
    root.append(svg('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', class: 'axis' }, label));
    root.append(svg('rect', { x: labelW, y: y + 3, width: Math.max(1, w), height: rowH - 6, fill: color, 'data-label': b.label, 'data-value': b.count }, svg('title', {}, `${b.label}: ${b.count}`)));
    root.append(svg('text', { x: labelW + w + 6, y: y + 15, class: 'axis' }, b.count));
  });
  return root;
}
