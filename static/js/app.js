// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Signup: the browser knows the builder's time zone.
  document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
    try { input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* keep UTC */ }
  });

  // Copy link.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      var done = function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1600);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
      } else {
        source.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
      }
    });
  });

  // Native share sheet on phones; copy stays as the fallback.
  document.querySelectorAll("[data-share-url]").forEach(function (button) {
    if (!navigator.share) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.shareTitle, text: button.dataset.shareText, url: button.dataset.shareUrl })
        .catch(function () { /* the builder closed the sheet */ });
    });
  });
  // A year of days is wider than a phone: start at the latest weeks.
  document.querySelectorAll(".heatmap-scroll").forEach(function (box) { box.scrollLeft = box.scrollWidth; });

  // A recipient's page tells the server whether the screen is a touch screen, with its confirm
  // request and every htmx request after it: iPadOS Safari sends a Mac's User-Agent, and no
  // Mac has touch points. htmx (deferred too) waits for DOMContentLoaded, so this listener is
  // in place before the page's load-triggered confirm leaves.
  var touchField = document.querySelector("[data-touch-field]");
  var touchPoints = String(navigator.maxTouchPoints || 0);
  if (touchField) {
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.parameters[touchField.dataset.touchField] = touchPoints;
    });
  }

  // A chip starts the recipient's sentence in the box ("Love it — "), and their own words
  // follow it; tapping another chip swaps the start while nothing else is written. Delegated:
  // htmx replaces the form after an error.
  document.addEventListener("change", function (event) {
    var chip = event.target;
    if (!chip.matches || !chip.matches("input[name=chip][data-starter]")) { return; }
    var box = chip.form && chip.form.elements.namedItem("text");
    if (!box) { return; }
    var typed = box.value.trim();
    var starters = chip.form.querySelectorAll("input[name=chip][data-starter]");
    var onlyAStart = Array.prototype.some.call(starters, function (other) {
      return other.dataset.starter.trim() === typed;
    });
    if (typed === "" || onlyAStart) { box.value = chip.dataset.starter; }
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });

  // Framed preview: the first tap inside the frame moves focus into it; tell the page once.
  var frame = document.querySelector("iframe[data-tap-url]");
  if (frame) {
    var tapped = false;
    window.addEventListener("blur", function () {
      setTimeout(function () {
        if (tapped || document.activeElement !== frame) { return; }
        tapped = true;
        var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
        fetch(frame.dataset.tapUrl, {
          method: "POST", credentials: "same-origin", headers: headers,
          body: new URLSearchParams({ event: "tap", touch: touchPoints })
        });
      }, 0);
    });
  }
})();
