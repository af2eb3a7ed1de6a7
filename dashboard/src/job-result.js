// A finished job's result, read page by page so that no one answer holds it all.
import { addPage } from "./jobs.js";

const PAGE_ROWS = 100_000;

// {series: Map(sensor -> rows), aggregated}, or null once `wanted()` says the page has
// moved on (checked after each page, so an abandoned result stops being read).
// `onPage(rowsSoFar)` hears of each page read.
export async function fetchResult(api, jobId, wanted, onPage = () => {}) {
  const series = new Map();
  let columns = null;
  let offset = 0;
  while (offset !== null) {
    const page = await api.get(
      `/v1/historical-jobs/${jobId}/result?offset=${offset}&limit=${PAGE_ROWS}`,
    );
    columns = page.columns;
    addPage(series, page);
    if (!wanted()) return null;
    onPage(page.next_offset ?? page.offset + page.series.reduce((n, s) => n + s.points.length, 0));
    offset = page.next_offset;
  }
  return { series, aggregated: columns !== null && columns.includes("avg") };
}
