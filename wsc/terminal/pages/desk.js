// The staff page of the reception terminal updates itself: it waits on
// GET /wait for the next change of the desk's screen and shows the new
// one. While somebody is typing in a field, a change within the same
// phase of the same visit waits until the field is emptied or sent; a
// new phase or a new card always shows at once (the previous patient's
// data must leave the screen with the card).
(function () {
  "use strict";
  var main = document.getElementById("phase");
  if (!main || !window.fetch) {
    return;
  }
  var phase = main.getAttribute("data-phase");
  var visit = main.getAttribute("data-visit");
  var version = main.getAttribute("data-version");
  var lang = document.documentElement.getAttribute("lang") || "ja";
  var stale = false;

  // The enrolment field takes the focus without scrolling the
  // eligibility out of sight (autofocus would).
  var field = document.querySelector("[data-focus]");
  if (field && !document.querySelector("[autofocus]")) {
    try {
      field.focus({ preventScroll: true });
    } catch (e) {
      field.focus();
    }
  }

  function typing() {
    var fields = document.querySelectorAll("input[type=password], input[type=text]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== "") {
        return true;
      }
    }
    return false;
  }

  function show() {
    window.location.replace("/?lang=" + encodeURIComponent(lang));
  }

  document.addEventListener("input", function () {
    if (stale && !typing()) {
      show();
    }
  });

  function wait(delay) {
    window.setTimeout(function () {
      fetch("/wait?v=" + encodeURIComponent(version), { cache: "no-store", credentials: "same-origin" })
        .then(function (r) {
          if (r.status !== 204) {
            throw new Error("wait: " + r.status);
          }
          var v = r.headers.get("X-Desk-Version");
          if (v === null || v === version) {
            wait(0);
            return;
          }
          if (r.headers.get("X-Desk-Phase") !== phase || r.headers.get("X-Desk-Visit") !== visit || !typing()) {
            show();
            return;
          }
          stale = true;
          version = v;
          wait(0);
        })
        .catch(function () {
          // The terminal does not answer: whatever it showed may no
          // longer be true, and the card may be gone. Nothing of the
          // patient stays on the screen.
          if (main.getAttribute("data-phase") !== "lost") {
            main.textContent = main.getAttribute("data-lost");
            main.setAttribute("data-phase", "lost");
            main.setAttribute("role", "alert");
            phase = "lost";
          }
          wait(Math.min(delay * 2 || 1000, 10000));
        });
    }, delay);
  }
  wait(0);
})();
