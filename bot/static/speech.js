// Read-aloud through govbot's own /api/tts, and voice input through MediaRecorder → /api/asr.

const MAX_TTS_CHARS = 2000;
const MAX_RECORD_MS = 60000;

async function errorMessage(response, fallback) {
  try {
    const body = await response.json();
    return (body && body.error && body.error.message) || fallback;
  } catch (_) {
    return fallback;
  }
}

export class Reader {
  // opts: { rate(): "normal"|"slow", volume(): "normal"|"loud", onError(msg) }
  constructor(opts) {
    this.opts = opts;
    this.audio = null;
    this.button = null;
    this.url = null;
    this.token = 0;
  }

  mark(button, playing) {
    if (!button) return;
    button.dataset.playing = String(playing);
    const label = button.querySelector(".play-label");
    if (label) label.textContent = playing ? "停止朗读" : "朗读";
  }

  stop() {
    this.token += 1;
    if (this.audio) { this.audio.pause(); this.audio.src = ""; }
    if (this.url) URL.revokeObjectURL(this.url);
    this.mark(this.button, false);
    this.audio = this.button = this.url = null;
  }

  async toggle(button, text) {
    if (this.button === button) { this.stop(); return; }
    await this.play(button, text);
  }

  async play(button, text) {
    this.stop();
    const token = this.token;
    this.button = button;
    this.mark(button, true);
    try {
      const response = await fetch("/api/tts", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: String(text).slice(0, MAX_TTS_CHARS), rate: this.opts.rate(), volume: this.opts.volume() }),
      });
      if (!response.ok) throw new Error(await errorMessage(response, "朗读失败，请稍后再试。"));
      const blob = await response.blob();
      if (token !== this.token) return;  // stopped while loading
      this.url = URL.createObjectURL(blob);
      this.audio = new Audio(this.url);
      this.audio.addEventListener("ended", () => { if (token === this.token) this.stop(); });
      await this.audio.play();
    } catch (err) {
      if (token !== this.token) return;
      this.stop();
      this.opts.onError(err && err.message && !/fetch|network|play/i.test(err.message) ? err.message : "朗读失败，请稍后再试。");
    }
  }
}

export class Recorder {
  // opts: { button, note, onText(text), onStatus(msg), onError(msg) }
  constructor(opts) {
    this.opts = opts;
    this.available = false;
    this.message = "正在检查语音输入…";
    this.recorder = null;
    this.timer = null;
    opts.button.addEventListener("click", () => this.click());
  }

  async init() {
    let status = { available: false, message: "语音输入暂不可用，请直接输入文字。" };
    try {
      const response = await fetch("/api/asr");
      if (response.ok) status = await response.json();
    } catch (_) { /* keep the default */ }
    const browserOk = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
    this.available = !!status.available && browserOk;
    this.message = status.available && !browserOk ? "此浏览器不支持录音，请直接输入文字。" : status.message;
    this.render(false);
  }

  render(recording) {
    const { button, note } = this.opts;
    if (!this.available) {
      button.textContent = "语音输入（未开通）";
      button.setAttribute("aria-disabled", "true");
      note.textContent = this.message;  // read as the button's description; shown in status on click
      note.classList.add("visually-hidden");
      return;
    }
    button.removeAttribute("aria-disabled");
    note.classList.remove("visually-hidden");
    button.textContent = recording ? "停止语音输入" : "语音输入";
    button.setAttribute("aria-pressed", String(recording));
    note.textContent = recording ? "正在录音，说完请再按一次按钮。" : "";
  }

  async click() {
    if (!this.available) { this.opts.onStatus(this.message); return; }
    if (this.recorder) { this.recorder.stop(); return; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (_) {
      this.opts.onError("无法使用麦克风，请检查权限，或直接输入文字。");
      return;
    }
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"].find((t) => MediaRecorder.isTypeSupported(t)) || "";
    const chunks = [];
    this.recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    this.recorder.addEventListener("dataavailable", (e) => { if (e.data.size) chunks.push(e.data); });
    this.recorder.addEventListener("stop", () => {
      stream.getTracks().forEach((t) => t.stop());
      clearTimeout(this.timer);
      const mime = (this.recorder.mimeType || type || "audio/webm").split(";")[0];
      this.recorder = null;
      this.render(false);
      this.upload(new Blob(chunks, { type: mime }));
    });
    this.recorder.start();
    this.timer = setTimeout(() => this.recorder && this.recorder.stop(), MAX_RECORD_MS);
    this.render(true);
  }

  async upload(blob) {
    this.opts.onStatus("正在识别语音…");
    try {
      const response = await fetch("/api/asr", { method: "POST", headers: { "Content-Type": blob.type }, body: blob });
      if (!response.ok) throw new Error(await errorMessage(response, "没有听清，请再说一遍或直接输入文字。"));
      const result = await response.json();
      this.opts.onText(result.text || "");
      this.opts.onStatus("识别完成，请确认文字后发送。");
    } catch (err) {
      this.opts.onStatus("");
      this.opts.onError(err.message || "语音识别失败，请直接输入文字。");
    }
  }
}
