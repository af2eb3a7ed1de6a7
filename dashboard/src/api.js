// The historical API as the page uses it: bearer-token fetches, and Server-Sent
// Events read with fetch (EventSource cannot send an Authorization header, and
// the token must stay out of URLs).
import { t } from "./i18n.js";
import { splitEvents } from "./logic.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers(), cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) throw await problem(response);
    return response.json();
  }

  get(path) {
    return this.request("GET", path);
  }

  async blob(path, accept) {
    const response = await fetch(path, { headers: this.headers({ Accept: accept }) });
    if (!response.ok) throw await problem(response);
    return response.blob();
  }

  // Yields {event, data, id} from an SSE endpoint until the server ends it or `signal` aborts.
  async *events(path, signal, lastEventId) {
    const headers = this.headers({ Accept: "text/event-stream" });
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    const response = await fetch(path, { headers, signal, cache: "no-store" });
    if (!response.ok) throw await problem(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const { events, rest } = splitEvents(buffer + value);
        buffer = rest;
        yield* events;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}

async function problem(response) {
  let code = "http_" + response.status;
  let message = response.statusText || t("error.request_failed");
  try {
    const body = await response.json();
    code = body.error || code;
    message = body.message || message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}
