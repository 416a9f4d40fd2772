// Text made safe inside HTML elements and attribute values. Its own module so the IAM section
// and the summary can use it without loading the page renderer (ECharts, ~50 MB at start-up).

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
