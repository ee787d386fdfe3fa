/* Outer Loop's reaction button and in-app activity for a hosted preview (sessions/widget.py).
   Same origin as the app it sits in; talks only to /__outerloop/ on this origin. Records taps,
   paths (no query) and visible time; never keys, field values or element text. */
(function () {
  "use strict";
  if (window.__outerloop) return;
  window.__outerloop = true;
  var base = location.origin + "/__outerloop/";
  var app = document.currentScript && document.currentScript.getAttribute("data-app");
  // In the share page's frame the mark isn't a cookie (a framed one is third-party, and the
  // frame's storage may be refused): the share page around the frame (the app's origin, the
  // only one allowed to frame this) posts it when asked. Kept in this page's memory only,
  // asked for again after each full navigation.
  var mark = null;
  var marked = {};

  function start() {
    fetch(base + "me", { credentials: "same-origin", cache: "no-store", headers: marked })
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (me) {
        if (!me) return;
        track();
        // Framed, the share page around the frame already has the reaction form: no button
        // here, only the activity.
        if (!mark) button(me);
      })
      .catch(function () {});
  }

  if (window.parent !== window && app) {
    var asks = 0, asking = null;
    var listen = function (event) {
      var data = event.data;
      if (event.source !== window.parent || event.origin !== app) return;
      if (!data || data.type !== "outerloop-mark" || typeof data.mark !== "string") return;
      window.removeEventListener("message", listen);
      clearInterval(asking);
      mark = data.mark;
      marked = { "X-Outerloop-Mark": mark };
      start();
    };
    var ask = function () {
      // The share page's script may not be listening yet: ask a few times, then go on unmarked.
      if (asks++ >= 20) { clearInterval(asking); window.removeEventListener("message", listen); start(); return; }
      try { window.parent.postMessage({ type: "outerloop-mark?" }, app); } catch (e) { /* not the app */ }
    };
    window.addEventListener("message", listen);
    asking = setInterval(ask, 250);
    ask();
  } else {
    start();
  }

  var host;
  var taps = 0, paths = [], seconds = 0, since = null, timer = null;

  function visible() { return document.visibilityState === "visible"; }
  function clock() {
    var now = Date.now();
    if (since !== null) seconds += (now - since) / 1000;
    since = visible() ? now : null;
  }
  function send() {
    clock();
    var whole = Math.floor(seconds);
    if (!taps && !paths.length && !whole) return;
    var beacon = { taps: taps, paths: paths, seconds: Math.min(whole, 120) };
    if (mark) beacon.mark = mark;  // a beacon carries no headers
    var body = JSON.stringify(beacon);
    var ok = false;
    try { ok = navigator.sendBeacon(base + "activity", new Blob([body], { type: "text/plain" })); } catch (e) { ok = false; }
    if (ok) { taps = 0; paths = []; seconds -= whole; }
  }
  function soon() { clearTimeout(timer); timer = setTimeout(send, 1500); }
  function path() {
    var p = location.pathname;
    if (paths.indexOf(p) < 0) paths.push(p);
    if (host && !host.isConnected) document.documentElement.appendChild(host);
    soon();
  }
  function track() {
    since = visible() ? Date.now() : null;
    path();
    window.addEventListener("pointerdown", function (e) {
      if (e.target === host || !e.isTrusted) return;
      taps += 1;
      soon();
    }, { capture: true, passive: true });
    ["pushState", "replaceState"].forEach(function (name) {
      var original = history[name];
      history[name] = function () {
        var result = original.apply(this, arguments);
        path();
        return result;
      };
    });
    window.addEventListener("popstate", path);
    document.addEventListener("visibilitychange", function () { if (visible()) { since = Date.now(); } else { send(); } });
    window.addEventListener("pagehide", send);
    setInterval(function () { if (visible()) send(); }, 15000);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text) node.textContent = text;
    return node;
  }
  function key() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function button(me) {
    host = el("outerloop-widget", {});
    host.style.display = "none";
    var root = host.attachShadow({ mode: "closed" });
    var css = el("link", { rel: "stylesheet", href: base + "widget.css?v=" + me.version });
    css.onload = function () { host.style.display = ""; };
    root.appendChild(css);
    var open = el("button", { type: "button", "class": "open", "aria-expanded": "false" }, "Tell " + me.builder + " what you think");
    var panel = el("form", { "class": "panel", hidden: "", "aria-label": "Your reaction for " + me.builder });
    var head = el("p", { "class": "head" });
    head.appendChild(el("span", {}, "Tell " + me.builder + " what you think"));
    var close = el("button", { type: "button", "class": "close", "aria-label": "Close" }, "\u00d7");
    head.appendChild(close);
    var chips = el("div", { "class": "chips", role: "group", "aria-label": "Quick picks" });
    var chosen = "";
    var text = el("textarea", { maxlength: String(me.max), "aria-label": "What do you think? In your own words.", placeholder: "What did you notice?" });
    me.chips.forEach(function (pair) {
      var chip = el("button", { type: "button", "class": "chip", "aria-pressed": "false" }, pair[1]);
      chip.addEventListener("click", function () {
        chosen = chosen === pair[0] ? "" : pair[0];
        chips.querySelectorAll(".chip").forEach(function (c) { c.setAttribute("aria-pressed", String(c === chip && chosen !== "")); });
        if (chosen && text.value.trim() === "") text.value = pair[1] + " \u2014 ";
        text.focus();
      });
      chips.appendChild(chip);
    });
    var sendButton = el("button", { type: "submit", "class": "send" }, "Send");
    var msg = el("p", { "class": "msg", role: "alert", hidden: "" });
    var formKey = key();
    panel.append(head, chips, text, sendButton, msg);
    root.append(open, panel);

    function show(on) {
      panel.hidden = !on;
      open.hidden = on;
      open.setAttribute("aria-expanded", String(on));
      if (on) text.focus(); else open.focus();
    }
    open.addEventListener("click", function () { show(true); });
    close.addEventListener("click", function () { show(false); });
    panel.addEventListener("submit", function (event) {
      event.preventDefault();
      sendButton.disabled = true;
      msg.hidden = true;
      fetch(base + "react", {
        method: "POST",
        credentials: "same-origin",
        headers: Object.assign({ "Content-Type": "text/plain" }, marked),
        body: JSON.stringify({ text: text.value, chip: chosen, idempotency_key: formKey })
      }).then(function (r) {
        return r.json().then(function (answer) { return { ok: r.ok, answer: answer }; });
      }).then(function (got) {
        sendButton.disabled = false;
        if (!got.ok) { msg.textContent = got.answer.error; msg.hidden = false; return; }
        panel.replaceChildren(head, el("p", { "class": "thanks", role: "status" }, got.answer.thanks));
        formKey = key();
      }).catch(function () {
        sendButton.disabled = false;
        msg.textContent = "That didn't go through. Your words are still here: try again.";
        msg.hidden = false;
      });
    });
    document.documentElement.appendChild(host);
  }
})();
