/**
 * The latency chart of scripts/bench/overhead.ts as a standalone SVG (no library, no fonts to
 * fetch): one panel per measurement, one pair of bars (p50, p99) per target, on a log scale,
 * since the targets' latencies are decades apart.
 */

export type ChartRow = { target: string; p50: number; p99: number; note?: string };
export type ChartPanel = { title: string; rows: ChartRow[] };

const WIDTH = 920;
const LEFT = 150; // target names
const RIGHT = 90; // the value printed past the longest bar
const BAR = 11;
const ROW = 2 * BAR + 10;
const PANEL_HEAD = 30;
const AXIS = 22;
const COLORS = { p50: "#2563eb", p99: "#93c5fd" };

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const msLabel = (ms: number) => (ms >= 1000 ? `${+(ms / 1000).toPrecision(3)} s` : `${+ms.toPrecision(3)} ms`);
const finite = (n: number) => Number.isFinite(n) && n > 0;

export function latencyChart(title: string, subtitle: string, panels: ChartPanel[]): string {
  const values = panels.flatMap((p) => p.rows.flatMap((r) => [r.p50, r.p99])).filter(finite);
  const low = Math.floor(Math.log10(Math.min(...values, 1)));
  const high = Math.ceil(Math.log10(Math.max(...values, 1)));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (ms: number) => LEFT + ((Math.log10(ms) - low) / Math.max(1, high - low)) * plotWidth;
  const parts: string[] = [];
  let y = 56;
  for (const panel of panels) {
    const top = y + PANEL_HEAD;
    const bottom = top + panel.rows.length * ROW;
    parts.push(`<text x="${LEFT}" y="${y + 18}" class="panel">${escapeXml(panel.title)}</text>`);
    for (let d = low; d <= high; d++) {
      const gx = x(10 ** d).toFixed(1);
      parts.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${bottom}" class="grid"/>`);
      parts.push(`<text x="${gx}" y="${bottom + 15}" class="axis" text-anchor="middle">${msLabel(10 ** d)}</text>`);
    }
    panel.rows.forEach((row, i) => {
      const ry = top + i * ROW;
      parts.push(`<text x="${LEFT - 8}" y="${ry + BAR + 4}" class="label" text-anchor="end">${escapeXml(row.target)}</text>`);
      if (!finite(row.p50) || !finite(row.p99)) {
        parts.push(`<text x="${LEFT + 6}" y="${ry + BAR + 4}" class="note">${escapeXml(row.note ?? "not measured")}</text>`);
        return;
      }
      const start = x(10 ** low);
      for (const [k, value, dy] of [["p50", row.p50, 0], ["p99", row.p99, BAR]] as const) {
        const end = Math.max(start + 1, x(value));
        parts.push(`<rect x="${start.toFixed(1)}" y="${ry + dy}" width="${(end - start).toFixed(1)}" height="${BAR - 1}" fill="${COLORS[k]}"><title>${escapeXml(`${row.target} ${k}: ${msLabel(value)}`)}</title></rect>`);
        parts.push(`<text x="${(end + 4).toFixed(1)}" y="${ry + dy + BAR - 2}" class="value">${k} ${msLabel(value)}</text>`);
      }
    });
    y = bottom + AXIS + 12;
  }
  const legend = `<rect x="${WIDTH - 200}" y="14" width="12" height="10" fill="${COLORS.p50}"/><text x="${WIDTH - 184}" y="23" class="axis">p50</text><rect x="${WIDTH - 140}" y="14" width="12" height="10" fill="${COLORS.p99}"/><text x="${WIDTH - 124}" y="23" class="axis">p99 (log scale)</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<style>.title{font-size:16px;font-weight:600}.sub{font-size:11px;fill:#555}.panel{font-size:13px;font-weight:600}.label{font-size:12px}.value{font-size:10px;fill:#333}.axis{font-size:10px;fill:#555}.note{font-size:11px;fill:#888;font-style:italic}.grid{stroke:#e5e7eb;stroke-width:1}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="22" class="title">${escapeXml(title)}</text>
<text x="12" y="40" class="sub">${escapeXml(subtitle)}</text>
${legend}
${parts.join("\n")}
</svg>
`;
}
