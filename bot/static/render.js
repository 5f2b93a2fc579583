// Builds message DOM. Every resident- or KB-supplied string goes through textContent: never innerHTML.

// Labels as in knowledge/models.py GUIDE_FIELDS, so every channel names the fields alike.
const GUIDE_EXTRA = [
  ["time_limit", "办理时限"], ["fees", "收费标准"], ["online_url", "网上办理"], ["online", "网上办理"],
  ["conditions", "办理条件"], ["basis", "政策依据"],
];
const NUMBERED = /^\s*(\d{1,2})\s*[.、．)）]\s*/;

// "2. 身份证补领" -> "身份证补领" (the button shows its number itself)
export function plainTitle(title) {
  return String(title || "").replace(NUMBERED, "");
}
let serial = 0;

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function asList(value) {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v ? v.name || v.title || JSON.stringify(v) : String(v)));
  if (typeof value === "string" && value.trim()) return value.split(/\n|；|;/).map((s) => s.trim()).filter(Boolean);
  return [];
}

function paragraphs(text) {
  return String(text || "").split(/\n+/).map((line) => line.trim()).filter(Boolean).map((line) => el("p", { text: line }));
}

function safeUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (_) {
    return null;
  }
}

function phoneValue(value) {
  const text = String(value);
  const digits = text.replace(/[^\d]/g, "");
  if (digits.length < 3 || digits.length > 15) return el("dd", { text });
  return el("dd", {}, el("a", { href: "tel:" + digits, text }));
}

export function shortText(message) {
  const custom = message.custom || {};
  if (typeof custom.short === "string" && custom.short.trim()) return custom.short.trim();
  const text = String(message.text || "").trim();
  const first = text.match(/^[^。！？!?\n]*[。！？!?]/);
  return first && first[0].length < text.length ? first[0] : text;
}

export function guideCard(custom, prefix) {
  const fields = custom.fields || {};
  const titleId = prefix + "-title";
  const card = el("section", { className: "guide", "aria-labelledby": titleId },
    el("h3", { id: titleId, text: "办事指南：" + (custom.title || "") }));
  const materials = asList(fields.materials);
  if (materials.length) card.append(el("h4", { text: "申请材料" }), el("ul", {}, materials.map((m) => el("li", { text: m }))));
  const steps = asList(fields.steps);
  if (steps.length) card.append(el("h4", { text: "办理流程" }), el("ol", {}, steps.map((s) => el("li", { text: s }))));
  const dl = el("dl");
  const add = (label, value) => { if (value) dl.append(el("dt", { text: label }), value); };
  if (fields.place) add("办理地点", el("dd", { text: fields.place }));
  if (fields.hours) add("办理时间", el("dd", { text: fields.hours }));
  if (fields.phone) add("咨询电话", phoneValue(fields.phone));
  for (const [key, label] of GUIDE_EXTRA) {
    const value = fields[key];
    if (!value) continue;
    const url = key.startsWith("online") ? safeUrl(value) : null;
    add(label, url ? el("dd", {}, el("a", { href: url, rel: "noopener noreferrer", text: String(value) }))
      : el("dd", { text: Array.isArray(value) ? asList(value).join("；") : String(value) }));
  }
  if (dl.childElementCount) card.append(dl);
  return card;
}

export function speechText(message, view) {
  if (view === "short") return shortText(message);
  const parts = [String(message.text || "")];
  const custom = message.custom || {};
  if (custom.type === "guide") {
    const f = custom.fields || {};
    const materials = asList(f.materials);
    const steps = asList(f.steps);
    if (materials.length) parts.push("申请材料：" + materials.join("；") + "。");
    if (steps.length) parts.push("办理流程：" + steps.map((s, i) => "第" + (i + 1) + "步，" + s).join("；") + "。");
    for (const [key, label] of [["place", "办理地点"], ["hours", "办理时间"], ["phone", "咨询电话"], ["time_limit", "办理时限"], ["fees", "收费标准"]]) {
      if (f[key]) parts.push(label + "：" + String(f[key]) + "。");
    }
  }
  if (numberedList(custom)) {
    parts[0] = visibleText(message);
    choices(message).forEach((b, i) => parts.push((i + 1) + "，" + plainTitle(b.title) + "。"));
    const rest = others(message).map((b) => b.title);
    if (rest.length) parts.push("也可以说：" + rest.join("，") + "。");
  }
  return parts.join("\n").trim();
}

function speaker(label) {
  return el("p", { className: "speaker" }, label, el("span", { className: "visually-hidden", text: "：" }));
}

// A clarification, or a topic's common questions: numbered choices.
function numberedList(custom) {
  return custom.type === "candidates" || custom.type === "topic_entries";
}

// A clarification's numbered choices, and its other buttons ("都不是", "转人工").
function choices(message) {
  return (message.buttons || []).filter((b) => String(b.payload || "").startsWith("/choose_option"));
}
function others(message) {
  return (message.buttons || []).filter((b) => !String(b.payload || "").startsWith("/choose_option"));
}

// For candidates the text repeats the numbered list the buttons already show: drop those lines.
function visibleText(message) {
  const titles = new Set(choices(message).map((b) => plainTitle(b.title)));
  const lines = String(message.text || "").split("\n");
  return lines.filter((line) => !(NUMBERED.test(line) && titles.has(plainTitle(line).trim()))).join("\n");
}

export function renderUser(text, id) {
  return el("li", { className: "msg msg-user", "data-id": id },
    speaker("我"), el("div", { className: "bubble" }, paragraphs(text)));
}

// ctx: { onChoose(button, displayText), onPlay(playButton, text), answer: true|false }
export function renderBot(message, ctx) {
  const prefix = "m" + (++serial);
  const custom = message.custom || {};
  const candidates = numberedList(custom);
  const full = el("div", { className: "msg-full", id: prefix + "-full" },
    paragraphs(candidates ? visibleText(message) : message.text));
  if (custom.type === "guide") full.append(guideCard(custom, prefix));
  const short = shortText(message);
  // 简要/详细 on knowledge-base answers; clarifications, greetings and notices have nothing to shorten.
  const isAnswer = custom.type === "guide" || custom.type === "answer";
  const hasShort = ctx.answer !== false && isAnswer &&
    (custom.type === "guide" || short !== String(message.text || "").trim());
  const bubble = el("div", { className: "bubble" }, full);
  let view = "full";
  let shortBox = null;
  if (hasShort) {
    shortBox = el("div", { className: "msg-short", id: prefix + "-short", hidden: true }, paragraphs(short));
    bubble.append(shortBox);
  }
  const numbered = candidates ? choices(message) : [];
  const buttons = candidates ? others(message) : message.buttons || [];
  if (numbered.length) {
    const list = el("ol", { className: "candidates", "aria-label": "请选择（可点击，或输入编号）" });
    numbered.forEach((button, i) => {
      list.append(el("li", {}, el("button", {
        type: "button", className: "candidate", "data-payload": button.payload,
        on: { click: () => ctx.onChoose(button, (i + 1) + ". " + plainTitle(button.title)) },
      }, el("span", { className: "candidate-n", "aria-hidden": "true", text: String(i + 1) }),
      el("span", { className: "visually-hidden", text: (i + 1) + "、" }),
      el("span", { text: plainTitle(button.title) }))));
    });
    bubble.append(list);
  }
  if (buttons.length) {
    bubble.append(el("div", { className: "msg-actions" }, buttons.map((button) => el("button", {
      type: "button", className: "secondary", "data-payload": button.payload, text: button.title,
      on: { click: () => ctx.onChoose(button, button.title) },
    }))));
  }
  const tools = el("div", { className: "msg-tools" });
  if (hasShort) {
    const group = el("div", { className: "view-toggle", role: "group", "aria-label": "回答显示方式" });
    const mk = (label, value) => el("button", {
      type: "button", "aria-pressed": String(value === view), "aria-controls": prefix + "-full " + prefix + "-short",
      "data-view": value, text: label,
      on: { click: () => {
        view = value;
        full.hidden = value === "short";
        shortBox.hidden = value !== "short";
        group.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === view)));
      } },
    });
    group.append(mk("简要", "short"), mk("详细", "full"));
    tools.append(group);
  }
  const play = el("button", { type: "button", className: "play", "data-playing": "false" },
    el("span", { "aria-hidden": "true", text: "▶ " }), el("span", { className: "play-label", text: "朗读" }));
  play.addEventListener("click", () => ctx.onPlay(play, speechText(message, view)));
  tools.append(play);
  bubble.append(tools);
  const li = el("li", { className: "msg msg-bot" }, speaker("客服"), bubble);
  li.speech = () => speechText(message, view);
  li.playButton = play;
  return li;
}
