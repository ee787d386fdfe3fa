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

  // Every htmx request says so when it fails (an error answer, no answer in time, no
  // network), in plain words beside what sent it, and leaves the page as it was: htmx swaps
  // nothing on an error, so what was typed stays in its box, and it enables again what it
  // disabled while sending (hx-disabled-elt). The words go into the sender's own box (a
  // [data-request-error] in its form or element), else into one made after it; its next
  // success clears them. A background request marked data-request-quiet (the recipient
  // page's confirm) says nothing; a polling element says it tries again by itself, on a bar
  // pinned to the foot of the screen when the poller is hidden.
  function waitFor(xhr) {
    var header = (xhr && xhr.getResponseHeader("Retry-After")) || "";
    if (!header) { return "a few minutes"; }
    var seconds = /^\s*\d+\s*$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
    if (!(seconds > 0)) { return "a moment"; }
    if (seconds < 60) {
      seconds = Math.ceil(seconds);
      return seconds === 1 ? "a second" : seconds + " seconds";
    }
    var minutes = Math.ceil(seconds / 60);
    return minutes === 1 ? "a minute" : minutes + " minutes";
  }

  function isPolling(elt) {
    return /(^|[\s,])every\s/.test(elt.getAttribute("hx-trigger") || "");
  }

  function failure(kind, xhr, elt) {
    var status = kind === "answer" && xhr ? xhr.status : 0;
    if (isPolling(elt)) {
      var why = kind === "network" ? "no connection" : kind === "timeout" ? "no answer in time" : "error " + status;
      return "Not up to date (" + why + "). Trying again by itself…";
    }
    if (kind === "network") { return "No connection: this didn't reach the server. Check your connection, then try again."; }
    if (kind === "timeout") { return "The server took too long to answer. Check your connection, then try again."; }
    if (status === 429) { return "Too many tries just now. Please wait " + waitFor(xhr) + ", then try again."; }
    if (status === 403) { return "That was refused (error 403). Try again; if it keeps happening, reload the page."; }
    if (status === 404 || status === 410) { return "This isn't there any more (error " + status + "). Reload the page to see why."; }
    if (status >= 500) { return "Something went wrong on our side (error " + status + "). Please try again in a moment."; }
    return "That didn't go through (error " + status + "). Please try again.";
  }

  function keptWords(home) {
    var typed = Array.prototype.some.call(home.querySelectorAll("textarea, input[type=text], input[type=url], input[type=email]"), function (field) {
      return field.value.trim() !== "";
    });
    return typed ? " What you wrote is still here." : "";
  }

  var madeBoxes = new WeakMap();

  // The element that sent the request: once a swap has taken it out of the page, htmx tells
  // its parent instead, with that parent as `detail.elt`.
  function sender(event) {
    return (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
  }

  function errorBox(elt, make) {
    var home = elt.closest("form") || elt;
    var box = home.querySelector("[data-request-error]") || madeBoxes.get(home);
    if (box || !make) { return box; }
    box = document.createElement("p");
    box.className = "request-error";
    box.setAttribute("role", isPolling(elt) ? "status" : "alert");
    if (home.hidden) {  // a page's own poll (templates/_live.html): a bar along the screen's foot
      box.classList.add("pinned");
      document.body.appendChild(box);
    } else if (home.tagName === "FORM") {
      home.appendChild(box);
    } else {
      home.insertAdjacentElement("afterend", box);
    }
    madeBoxes.set(home, box);
    return box;
  }

  function sayFailure(kind) {
    return function (event) {
      var elt = sender(event);
      if (!elt || elt.closest("[data-request-quiet]")) { return; }
      var box = errorBox(elt, true);
      var home = elt.closest("form") || elt;
      var words = failure(kind, event.detail.xhr, elt) + (isPolling(elt) ? "" : keptWords(home));
      if (box.textContent !== words) { box.textContent = words; }
    };
  }
  document.addEventListener("htmx:responseError", sayFailure("answer"));
  document.addEventListener("htmx:sendError", sayFailure("network"));
  document.addEventListener("htmx:timeout", sayFailure("timeout"));
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = sender(event);
    if (!elt || isPolling(elt)) { return; }  // a poll keeps its word until it gets through
    var box = errorBox(elt, false);
    if (box) { box.textContent = ""; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = sender(event);
    if (!elt || !event.detail.successful) { return; }
    var box = errorBox(elt, false);
    if (!box) { return; }
    box.textContent = "";
    var home = elt.closest("form") || elt;
    if (madeBoxes.get(home) === box) { box.remove(); madeBoxes.delete(home); }
  });

  // Today's turn, "or upload a build": a .zip, or a folder where the browser can pick one
  // (not on phones: iOS and Android pick files only, so the .zip input comes first and is
  // always there). With a build picked, the form goes by XMLHttpRequest, for its upload
  // progress (fetch has none), asking for JSON; the server answers where to go, or what was
  // wrong, which is said in the form's error box while everything typed stays. A folder's
  // files go with their paths in build_paths (a multipart file name loses its folders), less
  // what no build serves (dotfiles, node_modules/, __MACOSX/). Without this script the form
  // is a plain multipart post of the .zip.
  function sizeText(bytes) {
    var mb = bytes / (1024 * 1024);
    return (mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10) + " MB";
  }

  function notServed(path) {
    return path.split("/").some(function (part) {
      return part.charAt(0) === "." || part === "node_modules" || part === "__MACOSX";
    });
  }

  document.querySelectorAll("form[data-build-upload]").forEach(function (form) {
    var zip = form.elements.namedItem("build");
    var folder = form.elements.namedItem("build_folder");
    var picker = form.querySelector("[data-folder-picker]");
    var box = form.querySelector("[data-request-error]");
    var panel = form.querySelector("[data-upload-progress]");
    var bar = panel.querySelector("progress");
    var status = panel.querySelector("[data-upload-progress-text]");
    var cancel = panel.querySelector("[data-upload-cancel]");
    var submit = form.querySelector("button[type=submit]");
    var maxBytes = Number(form.dataset.maxBytes);
    var maxFiles = Number(form.dataset.maxFiles);
    var sending = null;

    var media = window.matchMedia ? window.matchMedia.bind(window) : function () { return { matches: false }; };
    var touchOnly = media("(pointer: coarse)").matches && !media("(any-pointer: fine)").matches;
    if (folder && picker && "webkitdirectory" in folder && !touchOnly) { picker.hidden = false; }

    // One build at a time: picking one lets go of the other.
    [zip, folder].forEach(function (input, index) {
      if (!input) { return; }
      input.addEventListener("change", function () {
        var other = index === 0 ? folder : zip;
        if (input.files.length && other) { other.value = ""; }
        box.textContent = "";
      });
    });

    function picked() {
      if (zip && zip.files.length) {
        return { kind: "zip", files: [zip.files[0]], paths: null, left: 0 };
      }
      if (folder && folder.files.length) {
        var files = [], paths = [], left = 0;
        Array.prototype.forEach.call(folder.files, function (file) {
          var path = file.webkitRelativePath || file.name;
          if (notServed(path)) { left += 1; return; }
          files.push(file);
          paths.push(path);
        });
        return { kind: "folder", files: files, paths: paths, left: left };
      }
      return null;
    }

    function say(words) {
      box.textContent = words;
    }

    function finish() {
      sending = null;
      submit.disabled = false;
      form.removeAttribute("aria-busy");
      panel.hidden = true;
    }

    function answer(xhr) {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not ours: a proxy's page */ }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.location) {
        status.textContent = "Uploaded. Opening it…";
        window.location.assign(body.location);
        return;
      }
      finish();
      if (body && body.message) {
        say(body.message + keptWords(form));
      } else if (xhr.status === 413) {
        say("That upload is too large: a build can be at most " + form.dataset.maxSize + "." + keptWords(form));
      } else {
        say(failure("answer", xhr, form) + keptWords(form));
      }
    }

    form.addEventListener("submit", function (event) {
      var upload = picked();
      if (!upload) { return; }  // a URL turn: the plain post
      event.preventDefault();
      if (sending) { return; }
      say("");
      if (!upload.files.length) {
        say("Nothing to upload: all " + upload.left + " files are dotfiles or in node_modules/.");
        return;
      }
      var bytes = upload.files.reduce(function (sum, file) { return sum + file.size; }, 0);
      if (bytes > maxBytes) {
        say("That build is " + sizeText(bytes) + "; a build can be at most " + form.dataset.maxSize + "." + keptWords(form));
        return;
      }
      if (upload.files.length > maxFiles) {
        say("That folder has " + upload.files.length.toLocaleString() + " files; a build can have " + maxFiles.toLocaleString() + "." + keptWords(form));
        return;
      }
      var data = new FormData(form);
      data.delete("build");
      data.delete("build_folder");
      data.delete("build_paths");
      if (upload.kind === "zip") {
        data.append("build", upload.files[0], upload.files[0].name);
      } else {
        upload.files.forEach(function (file) { data.append("build_folder", file, file.name); });
        data.append("build_paths", JSON.stringify(upload.paths));
      }
      var xhr = new XMLHttpRequest();
      sending = xhr;
      var shown = -1;
      var left = upload.left ? " (" + upload.left + " files left out: dotfiles and node_modules/)" : "";
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (progress) {
        if (!progress.lengthComputable) { return; }
        var percent = Math.floor((progress.loaded / progress.total) * 100);
        bar.value = percent;
        // Spoken in tens, not at every event.
        if (Math.floor(percent / 10) !== shown) {
          shown = Math.floor(percent / 10);
          status.textContent = "Uploading: " + percent + "% of " + sizeText(progress.total) + left;
        }
      };
      xhr.upload.onload = function () {
        bar.value = 100;
        status.textContent = "Uploaded. Putting it online…";
      };
      xhr.onload = function () { answer(xhr); };
      xhr.onerror = function () {
        finish();
        say(failure("network", xhr, form) + keptWords(form));
      };
      xhr.onabort = function () {
        finish();
        say("Upload cancelled. Nothing was kept; your build is still picked.");
      };
      bar.value = 0;
      status.textContent = "Uploading: 0% of " + sizeText(bytes) + left;
      panel.hidden = false;
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      xhr.send(data);
    });

    cancel.addEventListener("click", function () {
      if (sending) { sending.abort(); }
    });
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
        }).catch(function () { /* a background note: the person has nothing to do about it */ });
      }, 0);
    });
    // A hosted preview's widget script asks for its mark (reactions/widget.py, "Framed
    // mode"): answer this frame's own window alone, at the preview's origin alone, so no other
    // page (nor the frame once it navigates elsewhere) is ever handed it.
    var mark = frame.getAttribute("data-mark");
    var previewOrigin = mark ? new URL(frame.src, location.href).origin : null;
    if (mark) {
      window.addEventListener("message", function (event) {
        if (event.source !== frame.contentWindow || event.origin !== previewOrigin) { return; }
        if (!event.data || event.data.type !== "outerloop-mark?") { return; }
        frame.contentWindow.postMessage({ type: "outerloop-mark", mark: mark }, previewOrigin);
      });
    }
  }
})();
