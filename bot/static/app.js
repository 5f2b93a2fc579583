// govbot web chat: preferences, conversation state (kept in localStorage) and wiring.
import { Connection } from "./connection.js";
import { renderBot, renderUser } from "./render.js";
import { Reader, Recorder } from "./speech.js";

const $ = (id) => document.getElementById(id);
const root = document.documentElement;
const MAX_TRANSCRIPT = 200;
let maxText = 2000;  // replaced by the server's limit from /webhooks/web/config
const GREETING = "您好！我是政务服务智能客服。请直接输入您要办理的事情，例如：“社保卡丢了怎么补办”。需要人工服务，请按“转人工”或拨打热线。";
const FONT_NAMES = ["标准", "较大", "大", "特大"];

const store = {
  get(key, fallback) {
    try {
      const raw = localStorage.getItem("govbot." + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (_) { return fallback; }
  },
  set(key, value) {
    try { localStorage.setItem("govbot." + key, JSON.stringify(value)); } catch (_) { /* private mode */ }
  },
};

function newId(bytes) {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

const state = {
  sender: store.get("sender", null) || "w" + newId(12),
  prefs: Object.assign({ elder: null, contrast: false, read: false, step: 0, serverRate: "normal", volume: "normal" },
    store.get("prefs", {})),
  transcript: store.get("transcript", []),
  pending: store.get("pending", []),
  answered: new Set(store.get("answered", [])),
  userActed: false,
  connState: "connecting",
};
store.set("sender", state.sender);

const log = $("log");
const list = $("log-list");
const input = $("input");
let statusText = "";

function save() {
  state.transcript = state.transcript.slice(-MAX_TRANSCRIPT);
  store.set("transcript", state.transcript);
  store.set("pending", state.pending);
  store.set("answered", Array.from(state.answered).slice(-500));
}

function rate() { return state.prefs.elder || state.prefs.serverRate === "slow" ? "slow" : "normal"; }

// Inner scrolling only when the fixed parts leave the log at least 40% of the screen.
function fitLayout() {
  const fixed = ["site-header", "settings", "composer"].reduce(
    (sum, cls) => sum + document.querySelector("." + cls).offsetHeight, 0) + $("welcome").offsetHeight;
  root.classList.toggle("fit", window.innerWidth >= 700 && fixed < window.innerHeight * 0.6);
}

function applyPrefs() {
  const p = state.prefs;
  root.classList.toggle("elder", !!p.elder);
  root.classList.toggle("contrast", !!p.contrast);
  root.dataset.fontStep = String(p.step);
  $("sw-elder").setAttribute("aria-checked", String(!!p.elder));
  $("sw-contrast").setAttribute("aria-checked", String(!!p.contrast));
  $("sw-read").setAttribute("aria-checked", String(!!p.read));
  $("welcome").hidden = p.elder !== null || !!state.welcomeAside;
  store.set("prefs", p);
  fitLayout();
}

function setStatus(text) {
  if (text === statusText) return;
  statusText = text;
  $("status").textContent = text;
}

function showAlert(text) { $("alert").textContent = text; }

function refreshStatus() {
  const busy = state.pending.length > 0;
  log.setAttribute("aria-busy", String(busy));
  if (busy && state.connState !== "open") setStatus("网络连接中断，正在重新连接。您的消息会在恢复后自动发送。");
  else if (busy) setStatus("正在回复…");
  else if (state.connState === "closed") setStatus("网络连接中断，正在重新连接…");
  else setStatus("");
}

const reader = new Reader({ rate, volume: () => state.prefs.volume, onError: showAlert });

function botNode(message, answer) {
  return renderBot(message, {
    answer,
    onChoose: (button, display) => sendText(button.payload, display),
    onPlay: (button, text) => { state.userActed = true; reader.toggle(button, text); },
  });
}

function append(node) {
  list.append(node);
  return node;
}

function frameFor(entry) {
  return {
    type: "message", id: entry.id, sender: state.sender, text: entry.text,
    preferences: { large_text: !!state.prefs.elder, rate: rate(), volume: state.prefs.volume },
  };
}

function sendText(text, display) {
  const clean = String(text || "").trim();
  if (!clean) { showAlert("请先输入您要咨询的问题。"); input.focus(); return; }
  if (clean.length > maxText) { showAlert("内容过长，请少于 " + maxText + " 字。"); return; }
  state.userActed = true;
  showAlert("");
  // A resident who starts asking has passed the first-visit question by: it steps aside so
  // that it never takes the conversation's room (the switch above stays for later).
  if (!state.welcomeAside) { state.welcomeAside = true; applyPrefs(); }
  const entry = { id: newId(8), text: clean, display: display || clean };
  state.pending.push(entry);
  state.transcript.push({ kind: "user", id: entry.id, text: entry.display });
  save();
  append(renderUser(entry.display, entry.id)).scrollIntoView({ block: "nearest" });
  refreshStatus();
  connection.send(frameFor(entry));
}

function applyServerPrefs(p) {
  if (!p) return;
  state.prefs.serverRate = p.rate === "slow" ? "slow" : "normal";
  state.prefs.volume = p.volume === "loud" ? "loud" : "normal";
  if (p.large_text === true && !state.prefs.elder) {
    state.prefs.elder = true;
    setStatus("已为您开启长辈版。");
  }
  applyPrefs();
}

function onFrame(frame) {
  if (frame.type === "reply") {
    const id = frame.reply_to;
    if (state.answered.has(id) || !state.pending.some((p) => p.id === id)) return;  // a replayed duplicate
    state.answered.add(id);
    state.pending = state.pending.filter((p) => p.id !== id);
    const nodes = (frame.messages || []).map((message) => {
      state.transcript.push({ kind: "bot", replyTo: id, message });
      return append(botNode(message, true));
    });
    save();
    applyServerPrefs(frame.preferences);
    refreshStatus();
    if (nodes.length) nodes[0].scrollIntoView({ block: "nearest" });
    if (nodes.length && state.prefs.read && state.userActed) {
      reader.play(nodes[0].playButton, nodes.map((n) => n.speech()).join("\n"));
    }
  } else if (frame.type === "push") {
    // Staff (or govbot about the handoff) wrote into the conversation.
    if (state.answered.has(frame.id)) return;
    state.answered.add(frame.id);
    const nodes = (frame.messages || []).map((message) => {
      state.transcript.push({ kind: "bot", replyTo: frame.id, message });
      return append(botNode(message, false));
    });
    save();
    if (nodes.length) nodes[0].scrollIntoView({ block: "nearest" });
    if (nodes.length && state.prefs.read && state.userActed) {
      reader.play(nodes[0].playButton, nodes.map((n) => n.speech()).join("\n"));
    }
  } else if (frame.type === "error") {
    if (frame.reply_to) {
      state.pending = state.pending.filter((p) => p.id !== frame.reply_to);
      save();
    }
    showAlert(frame.message || "发送失败，请稍后再试。");
    refreshStatus();
  }
}

const connection = new Connection({
  onFrame,
  onOpen: () => {
    connection.hello({ type: "hello", sender: state.sender });  // staff replies may come
    state.pending.forEach((entry) => connection.send(frameFor(entry)));
  },
  onState: (s) => { state.connState = s; root.dataset.connection = s; refreshStatus(); },
});

function restore() {
  log.setAttribute("aria-busy", "true");
  if (!state.transcript.length) state.transcript.push({ kind: "bot", local: true, message: { text: GREETING } });
  for (const item of state.transcript) {
    append(item.kind === "user" ? renderUser(item.text, item.id) : botNode(item.message, !item.local));
  }
  save();
  const last = list.lastElementChild;
  if (last) last.scrollIntoView({ block: "nearest" });
  refreshStatus();
}

function bindControls() {
  const toggle = (key, id) => $(id).addEventListener("click", () => {
    state.prefs[key] = !state.prefs[key];
    if (key === "read" && !state.prefs.read) reader.stop();
    applyPrefs();
  });
  toggle("elder", "sw-elder");
  toggle("contrast", "sw-contrast");
  toggle("read", "sw-read");
  const font = (delta) => {
    state.prefs.step = Math.max(0, Math.min(FONT_NAMES.length - 1, state.prefs.step + delta));
    applyPrefs();
    setStatus("字号：" + FONT_NAMES[state.prefs.step]);
  };
  $("font-down").addEventListener("click", () => font(-1));
  $("font-up").addEventListener("click", () => font(1));
  const answerWelcome = (elder) => {
    state.prefs.elder = elder;
    applyPrefs();
    setStatus(elder ? "已开启长辈版。" : "已选择标准版，可随时在上方开启长辈版。");
    input.focus();
  };
  $("welcome-yes").addEventListener("click", () => answerWelcome(true));
  $("welcome-no").addEventListener("click", () => answerWelcome(false));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendText(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  // The intent directly (as actions/render.py's 转人工 buttons do), shown as the words.
  $("handoff").addEventListener("click", () => sendText("/request_human", "转人工"));
}

async function loadConfig() {
  try {
    const response = await fetch("/webhooks/web/config");
    if (!response.ok) return;
    const config = await response.json();
    if (config.max_text_chars > 0) {
      maxText = config.max_text_chars;
      input.setAttribute("maxlength", String(maxText));
    }
    const hotline = String(config.hotline || "").trim();
    if (!hotline) return;
    document.querySelectorAll("[data-hotline]").forEach((n) => { n.textContent = hotline; });
    document.querySelectorAll("[data-hotline-href]").forEach((n) => n.setAttribute("href", "tel:" + hotline.replace(/[^\d+]/g, "")));
  } catch (_) { /* the page keeps the default hotline */ }
}

applyPrefs();
window.addEventListener("resize", fitLayout);
bindControls();
restore();
new Recorder({
  button: $("mic"), note: $("mic-note"), onStatus: setStatus, onError: showAlert,
  onText: (text) => { input.value = (input.value + text).slice(0, maxText); input.focus(); },
}).init();
loadConfig();
connection.start();
