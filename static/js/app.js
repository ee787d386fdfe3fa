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
