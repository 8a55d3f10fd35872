/*
 * SEN Support assistant: the embeddable chat widget. One file, no dependencies.
 *
 *   <script src="https://ASSISTANT-HOST/widget.js" data-title="Ask about SEN Support"
 *           data-area="oxfordshire" data-colour="#123c69" data-position="right"
 *           data-exit-url="https://www.bbc.co.uk/weather" defer></script>
 *
 * The API origin is the origin this script was loaded from. Bot and user text is
 * only ever set with textContent; links are built as elements (http and https only).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__senbotWidget) return;
  window.__senbotWidget = true;

  var data = script.dataset;
  var API = new URL(script.src, location.href).origin;
  var AREAS = ["oxfordshire", "buckinghamshire", "cornwall", "elsewhere"];
  var TITLE = (data.title || "Ask about SEN Support").slice(0, 60);
  var AREA = AREAS.indexOf((data.area || "").toLowerCase()) >= 0 ? data.area.toLowerCase() : null;
  var COLOUR = safeColour(data.colour);
  var LEFT = data.position === "left";
  var EXIT = httpUrl(data.exitUrl || "") || "https://www.bbc.co.uk/weather";
  var KEY = "senbot-widget:" + API;
  var TIMEOUT_MS = 20000;
  var URL_RE = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;

  // ---- small helpers -------------------------------------------------------
  function httpUrl(value) {
    try {
      var url = new URL(value, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function luminance(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }

  // The colour carries white text: if it is not dark enough for 4.5:1, use a safe one.
  function safeColour(value) {
    var hex = String(value || "").trim();
    if (/^#[0-9a-f]{3}$/i.test(hex)) hex = "#" + hex[1] + hex[1] + hex[2] + hex[2] + hex[3] + hex[3];
    if (!/^#[0-9a-f]{6}$/i.test(hex)) return "#1d4f91";
    return 1.05 / (luminance(hex) + 0.05) >= 4.5 ? hex : "#1d4f91";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text != null) node.textContent = text;
    return node;
  }

  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // Text with its web addresses turned into links, built node by node.
  function linkify(parent, text) {
    var last = 0;
    text.replace(URL_RE, function (match, offset) {
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var href = httpUrl(match);
      parent.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, match)
                              : document.createTextNode(match));
      last = offset + match.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---- state kept for this tab only ------------------------------------------
  var state = load();

  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(KEY));
      if (saved && Array.isArray(saved.log) && /^[\w-]{8,64}$/.test(saved.session)) return saved;
    } catch (e) { /* no storage or bad data: start afresh */ }
    return { session: newId(), log: [], areaSent: false, open: false };
  }

  function save() {
    try {
      sessionStorage.setItem(KEY, JSON.stringify(state));
    } catch (e) { /* storage full or blocked: the chat still works */ }
  }

  // ---- the interface, in its own shadow root so the host page's CSS can't reach it
  var host = el("div", { id: "senbot-widget" });
  var root = host.attachShadow({ mode: "open" });
  var side = LEFT ? "left" : "right";
  var css =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:Arial,Helvetica,sans-serif}" +
    ".w{position:fixed;bottom:1rem;" + side + ":1rem;z-index:2147483000;font-size:1rem;line-height:1.4;color:#1b1b1b}" +
    "button,textarea{font:inherit}" +
    "button{cursor:pointer;border-radius:.3rem;min-height:2.75rem;padding:.4rem .8rem}" +
    ":focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}" +
    ".launch{background:C;color:#fff;border:2px solid #fff;font-weight:bold;box-shadow:0 2px 6px rgba(0,0,0,.4)}" +
    ".panel{position:absolute;bottom:3.5rem;" + side + ":0;width:min(24rem,calc(100vw - 2rem));" +
    "height:min(36rem,calc(100vh - 5.5rem));display:flex;flex-direction:column;background:#fff;" +
    "border:2px solid C;border-radius:.5rem;box-shadow:0 4px 16px rgba(0,0,0,.35);overflow-y:auto}" +
    ".panel>*{flex-shrink:0}" +
    ".panel[hidden]{display:none}" +
    "header{position:sticky;top:0;z-index:1;background:C;color:#fff;padding:.5rem;display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}" +
    "h2{font-size:1.1rem;margin:0;flex:1 1 8rem}" +
    ".exit{background:#b10e1e;color:#fff;border:2px solid #fff;font-weight:bold}" +
    ".close{background:#fff;color:#1b1b1b;border:2px solid #fff}" +
    ".notice{margin:0;padding:.4rem .6rem;font-size:.9rem;background:#f3f2f1;border-bottom:1px solid #b1b4b6}" +
    "a{color:#1d4f91}" +
    ".panel>.log{flex:1 1 auto;overflow-y:auto;padding:.6rem;min-height:6rem}" +
    ".msg{margin:.4rem 0;padding:.5rem .7rem;border-radius:.5rem;max-width:90%;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".bot{background:#f3f2f1}" +
    ".user{background:C;color:#fff;margin-left:auto}" +
    ".user a{color:#fff}" +
    ".src{font-size:.9rem;border-left:4px solid C}" +
    ".err{background:#fff4f4;border:2px solid #b10e1e}" +
    ".err ul{margin:.4rem 0 0;padding-left:1.2rem}" +
    ".quick{display:flex;flex-wrap:wrap;gap:.4rem;margin:.3rem 0}" +
    ".quick button{background:#fff;color:#1d4f91;border:2px solid #1d4f91}" +
    ".typing{padding:0 .6rem .4rem;color:#505a5f;font-size:.9rem}" +
    ".typing[hidden]{display:none}" +
    ".dot{display:inline-block;width:.45rem;height:.45rem;margin:0 .1rem;border-radius:50%;background:#505a5f;animation:b 1s infinite}" +
    ".dot:nth-child(2){animation-delay:.2s}.dot:nth-child(3){animation-delay:.4s}" +
    "@keyframes b{50%{opacity:.2}}" +
    "@media (prefers-reduced-motion:reduce){.dot{animation:none}}" +
    "form{display:flex;flex-wrap:wrap;gap:.4rem;padding:.5rem;border-top:1px solid #b1b4b6}" +
    "label{width:100%;font-weight:bold;font-size:.9rem}" +
    "textarea{flex:1 1 10rem;min-height:2.75rem;max-height:8rem;padding:.4rem;border:2px solid #0b0c0c;border-radius:.3rem;resize:vertical}" +
    ".send{background:C;color:#fff;border:2px solid C}" +
    ".clear{background:#fff;color:#1b1b1b;border:2px solid #505a5f}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";
  root.appendChild(el("style", {}, css.replace(/\bC\b/g, COLOUR)));

  var wrap = el("div", { class: "w" });
  var launcher = el("button", { type: "button", class: "launch", "aria-haspopup": "dialog",
    "aria-expanded": "false", "aria-controls": "senbot-panel" }, TITLE);
  var panel = el("div", { id: "senbot-panel", class: "panel", role: "dialog",
    "aria-labelledby": "senbot-title", hidden: "" });
  var header = el("header");
  header.appendChild(el("h2", { id: "senbot-title" }, TITLE));
  var exitButton = el("button", { type: "button", class: "exit",
    title: "Leave this page now and open a weather page" }, "Quick exit");
  var closeButton = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "Close");
  header.appendChild(exitButton);
  header.appendChild(closeButton);

  var notice = el("p", { class: "notice" },
    "I'm a computer, not a person. Please don't share names or addresses. ");
  notice.appendChild(el("a", { href: API + "/privacy", target: "_blank", rel: "noopener" },
    "How your messages are used"));

  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation",
    tabindex: "0" });
  var typing = el("div", { class: "typing", hidden: "" });
  typing.appendChild(el("span", { class: "sr" }, "The assistant is typing"));
  for (var i = 0; i < 3; i++) typing.appendChild(el("span", { class: "dot", "aria-hidden": "true" }));

  var form = el("form", { novalidate: "" });
  form.appendChild(el("label", { for: "senbot-input" }, "Your question"));
  var input = el("textarea", { id: "senbot-input", rows: "2", maxlength: "1000",
    autocomplete: "off", "aria-describedby": "senbot-hint" });
  var hint = el("span", { id: "senbot-hint", class: "sr" }, "Enter sends. Shift and Enter starts a new line.");
  var sendButton = el("button", { type: "submit", class: "send" }, "Send");
  var clearButton = el("button", { type: "button", class: "clear" }, "Clear conversation");
  [input, hint, sendButton, clearButton].forEach(function (n) { form.appendChild(n); });

  [header, notice, log, typing, form].forEach(function (n) { panel.appendChild(n); });
  wrap.appendChild(panel);
  wrap.appendChild(launcher);
  root.appendChild(wrap);

  // ---- rendering ------------------------------------------------------------
  function render(entry) {
    var node;
    if (entry.kind === "source") {
      node = el("p", { class: "msg bot src" });
      node.appendChild(document.createTextNode("Source: "));
      var s = entry.source;
      var url = s.url && httpUrl(s.url);
      var cite = el("cite", {}, s.title);
      if (url) {
        var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" });
        a.appendChild(cite);
        node.appendChild(a);
      } else {
        node.appendChild(cite);
      }
      node.appendChild(document.createTextNode(
        (s.publisher ? " - " + s.publisher : "") + (s.area ? " (" + s.area + ")" : "") +
        // "page from 2018: check it is still current" for an old or unmaintained page
        (typeof s.caveat === "string" && s.caveat ? " (" + s.caveat + ")" : "")));
    } else if (entry.kind === "error") {
      node = el("div", { class: "msg bot err" });
      node.appendChild(el("p", { style: "margin:0" }, entry.text));
      if (entry.contacts && entry.contacts.length) {
        var list = el("ul");
        entry.contacts.forEach(function (c) {
          var item = el("li", {}, c.service + ": ");
          if (c.phone) item.appendChild(el("a", { href: "tel:" + c.phone.replace(/\s/g, "") }, c.phone));
          var web = c.web && httpUrl(c.web);
          if (web) {
            if (c.phone) item.appendChild(document.createTextNode(", "));
            item.appendChild(el("a", { href: web, target: "_blank", rel: "noopener noreferrer" }, c.web));
          }
          if (!c.phone && !web) item.appendChild(document.createTextNode(c.search_hint || ""));
          list.appendChild(item);
        });
        node.appendChild(list);
      }
    } else {
      node = el("p", { class: "msg " + (entry.from === "user" ? "user" : "bot") });
      if (entry.from === "user") node.appendChild(el("span", { class: "sr" }, "You said: "));
      linkify(node, entry.text);
    }
    log.appendChild(node);
    if (entry.buttons && entry.buttons.length) {
      var row = el("div", { class: "quick", role: "group", "aria-label": "Suggested replies" });
      entry.buttons.forEach(function (b) {
        var button = el("button", { type: "button" }, String(b.title || b.payload));
        button.addEventListener("click", function () {
          send(String(b.payload || b.title), String(b.title || b.payload));
        });
        row.appendChild(button);
      });
      log.appendChild(row);
    }
  }

  function add(entry) {
    // Suggested replies belong to the latest message only.
    Array.prototype.forEach.call(log.querySelectorAll(".quick"), function (row) { row.remove(); });
    state.log.forEach(function (e) { delete e.buttons; });
    state.log.push(entry);
    save();
    render(entry);
    log.scrollTop = log.scrollHeight;
  }

  function redraw() {
    log.textContent = "";
    state.log.forEach(render);
    log.scrollTop = log.scrollHeight;
  }

  function fromRasa(message) {
    if (!message || typeof message !== "object") return null;
    var custom = message.custom || {};
    if (custom.source && custom.source.title) {
      return { kind: "source", source: custom.source };
    }
    if (typeof message.text !== "string") return null;
    var buttons = Array.isArray(message.buttons) ? message.buttons.filter(function (b) {
      return b && (typeof b.title === "string" || typeof b.payload === "string");
    }) : [];
    return { from: "bot", text: message.text, buttons: buttons };
  }

  // ---- contacts for when the assistant can't be reached ---------------------
  var contacts = null;

  function fetchContacts() {
    if (contacts) return;
    fetch(API + "/api/contacts" + (AREA ? "?area=" + AREA : ""), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) contacts = body; })
      .catch(function (e) { console.warn("SEN Support widget: no contacts", e); });
  }

  function cannotConnect(fallbackText) {
    var list = contacts ? contacts.sendias.concat(contacts.crisis) : [];
    add({
      kind: "error",
      text: list.length
        ? "Sorry, I can't connect right now. Please try again later, or contact one of these:"
        : fallbackText || "Sorry, I can't connect right now. If you or someone else is in danger, call 999.",
      contacts: list,
    });
  }

  // ---- talking to the assistant ---------------------------------------------
  var busy = false;

  function send(message, shown) {
    message = message.trim();
    if (!message || busy) return;
    busy = true;
    sendButton.disabled = true;
    add({ from: "user", text: shown || message });
    typing.hidden = false;
    var body = { session: state.session, message: message };
    if (AREA && !state.areaSent) body.area = AREA;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(API + "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      signal: controller.signal,
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (reply) {
          return { status: r.status, ok: r.ok, reply: reply };
        });
      })
      .then(function (res) {
        var messages = Array.isArray(res.reply.messages) ? res.reply.messages : [];
        if (res.ok) {
          if (body.area) state.areaSent = true;
          // A cited answer comes as "Source: ..." text plus the same source as data:
          // show the data as one citation.
          var cited = messages.some(function (m) { return m && m.custom && m.custom.source; });
          messages.filter(function (m) {
            return !(cited && typeof m.text === "string" && m.text.indexOf("Source: ") === 0);
          }).map(fromRasa).filter(Boolean).forEach(add);
          if (!messages.length) add({ from: "bot", text: "Sorry, I don't have an answer for that. Could you ask in another way?" });
        } else if (res.status === 429 || (res.status >= 400 && res.status < 500)) {
          add({ from: "bot", text: (messages[0] && messages[0].text) || res.reply.error || "Sorry, I couldn't read that message." });
        } else {
          console.error("SEN Support widget: the assistant answered " + res.status);
          cannotConnect(messages[0] && messages[0].text);
        }
      })
      .catch(function (e) {
        console.error("SEN Support widget: can't reach the assistant", e);
        cannotConnect();
      })
      .then(function () {
        clearTimeout(timer);
        busy = false;
        sendButton.disabled = false;
        typing.hidden = true;
      });
  }

  // ---- opening, closing, keys -----------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    save();
    fetchContacts();
    log.scrollTop = log.scrollHeight;
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open(); else close();
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    send(text);
  });
  clearButton.addEventListener("click", function () {
    state = { session: newId(), log: [], areaSent: false, open: true };
    save();
    redraw();
    input.focus();
  });
  exitButton.addEventListener("click", function () {
    try {
      sessionStorage.removeItem(KEY);
    } catch (e) { /* nothing stored */ }
    location.replace(EXIT);
  });

  function start() {
    document.body.appendChild(host);
    redraw();
    if (state.open) {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      fetchContacts();
    }
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
