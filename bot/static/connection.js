// WebSocket to /webhooks/web/ws with reconnect; REST fallback (which polls for staff messages)
// when WebSockets never open.

const WS_PATH = "/webhooks/web/ws";
const REST_PATH = "/webhooks/web/messages";
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const PING_MS = 25000;
const REST_AFTER_FAILURES = 4;
const REST_POLL_MS = 3000;  // without a socket, the page asks for staff messages this often
const HIDDEN_POLL_EVERY = 5;  // a hidden page asks on every fifth tick only

export class Connection {
  // opts: { onFrame(frame), onOpen(), onState(state) } with state "connecting" | "open" | "closed"
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.failures = 0;
    this.everOpened = false;
    this.rest = false;
    this.timer = null;
    this.ping = null;
    this.state = "connecting";
    this.helloFrame = null;
    this.poller = null;
    this.ticks = 0;
    this.polling = false;
  }

  get open() {
    return this.rest || (this.ws && this.ws.readyState === WebSocket.OPEN);
  }

  setState(state) {
    this.state = state;
    this.opts.onState(state);
  }

  start() {
    clearTimeout(this.timer);
    if (this.rest) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + WS_PATH);
    } catch (_) {
      this.retry();
      return;
    }
    this.ws = ws;
    this.setState("connecting");
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.failures = 0;
      this.everOpened = true;
      this.setState("open");
      clearInterval(this.ping);
      this.ping = setInterval(() => this.sendRaw({ type: "ping" }), PING_MS);
      this.opts.onOpen();
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (frame && frame.type !== "pong") this.opts.onFrame(frame);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      clearInterval(this.ping);
      this.ws = null;
      this.setState("closed");
      this.retry();
    });
  }

  retry() {
    this.failures += 1;
    if (!this.everOpened && this.failures >= REST_AFTER_FAILURES) {
      this.rest = true;  // WebSockets blocked on this network: plain HTTP requests from now on
      this.setState("open");
      this.opts.onOpen();
      clearInterval(this.poller);
      this.poller = setInterval(() => this.poll(), REST_POLL_MS);
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.failures - 1, BACKOFF_MS.length - 1)];
    this.timer = setTimeout(() => this.start(), delay);
  }

  // The page's hello: over the socket, staff messages then come by themselves; without one,
  // poll() repeats it and the server answers with the messages due.
  hello(frame) {
    this.helloFrame = frame;
    if (this.rest) this.poll();
    else this.sendRaw(frame);
  }

  async poll() {
    this.ticks += 1;
    if (!this.helloFrame || this.polling) return;
    if (document.visibilityState === "hidden" && this.ticks % HIDDEN_POLL_EVERY) return;
    this.polling = true;
    try {
      const response = await fetch(REST_PATH, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(this.helloFrame),
      });
      const body = await response.json();
      if (response.ok && body.type === "pushes") body.frames.forEach((frame) => this.opts.onFrame(frame));
    } catch (_) {
      // the next tick asks again
    } finally {
      this.polling = false;
    }
  }

  sendRaw(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // Returns false when the frame could not go out now; the caller keeps it pending and re-sends on open.
  send(frame) {
    if (this.rest) { this.post(frame); return true; }
    return this.sendRaw(frame);
  }

  async post(frame) {
    try {
      const response = await fetch(REST_PATH, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(frame),
      });
      const body = await response.json();
      if (response.ok) this.opts.onFrame(body);
      else this.opts.onFrame({ type: "error", reply_to: frame.id, code: body.error && body.error.code, message: body.error && body.error.message });
    } catch (_) {
      setTimeout(() => this.post(frame), 3000);  // same id: the server answers it once
    }
  }

  // Test and shutdown helper: drop the socket as a network failure would.
  drop() {
    if (this.ws) this.ws.close();
  }
}
