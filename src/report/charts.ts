// Charts rendered to SVG when the report is written (Apache ECharts' server-side renderer), so
// report.html needs no script and no network to be read or printed.
import * as echarts from "echarts";

export type ChartOption = Record<string, unknown>;

/** Consistent department colours across charts (colour-blind-friendly Okabe-Ito order first). */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#F0E442",
  "#000000",
  "#999999",
  "#882255",
];

export function renderSvg(option: ChartOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: "system-ui, sans-serif" },
      ...option,
    });
    return chart.renderToSVGString();
  } finally {
    // without dispose the renderer keeps a timer alive
    chart.dispose();
  }
}
