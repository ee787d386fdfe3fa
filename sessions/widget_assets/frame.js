/* The framed door's script (reactions/widget.py, framed mode): keep the carried mark for
   widget.js, then replace this page with the app's path. sessionStorage where the frame may
   use it; where the browser refuses storage to the frame (blocked cookies), window.name,
   which lasts across this frame's own navigations. No cookie: a framed one is third-party. */
(function () {
  "use strict";
  var me = document.currentScript;
  var mark = me.getAttribute("data-mark");
  try {
    sessionStorage.setItem("outerloop-mark", mark);
  } catch (e) {
    window.name = "outerloop-mark:" + mark;
  }
  location.replace(me.getAttribute("data-to"));
})();
