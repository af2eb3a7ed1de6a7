// The historical API as the page uses it: bearer-token fetches, and Server-Sent
// Events read with fetch (EventSource cannot send an Authorization header, and
// the token must stay out of URLs).

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
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event) yield event;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }
}

function parseEvent(block) {
  const event = { event: "message", data: "", id: null };
  let hasData = false;
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
    else if (field === "data") {
      event.data += (hasData ? "\n" : "") + value;
      hasData = true;
    }
  }
  return hasData ? event : null;
}

async function problem(response) {
  let code = "http_" + response.status;
  let message = response.statusText || "request failed";
  try {
    const body = await response.json();
    code = body.error || code;
    message = body.message || message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}
