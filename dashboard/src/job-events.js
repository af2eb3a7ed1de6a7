// The user's job events: one SSE stream for all their jobs, resumed from the last event
// seen when it drops. News of a job the page does not show yet is kept for a while.
import { ApiError } from "./api.js";
import { rememberLatest } from "./jobs.js";
import { sleep } from "./sleep.js";

export function jobEvents({ onUnauthorized }) {
  let controller = null; // of the stream followed; a new sign-in replaces it
  const early = new Map(); // job id -> its latest event not yet claimed by a job on screen

  // `claim(event)` is true when the event was for the job on screen.
  async function follow(api, claim) {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    let lastId = null;
    while (!mine.signal.aborted) {
      try {
        for await (const event of api.events("/v1/events", mine.signal, lastId)) {
          if (event.id) lastId = event.id;
          const data = JSON.parse(event.data);
          if (!claim(data)) rememberLatest(early, data); // its POST answer may be on its way
        }
      } catch (error) {
        if (mine.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) return onUnauthorized();
      }
      await sleep(2000);
    }
  }

  return { follow, early: (jobId) => early.get(jobId) };
}
