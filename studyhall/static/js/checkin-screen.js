// The meeting-room check-in screen: fetch the state (QR code, typed code, count) from the
// server just after each 10-second step changes and at least every 5 s. The server's
// clock decides everything; this page only waits as long as the server says. A code kept
// on screen past the time the server still accepts it is hidden, so nobody scans a dead
// one while the network is down. Loaded as a file: the CSP allows no inline script.
(function () {
  "use strict";
  var screen = document.getElementById("screen");
  if (!screen) { return; }
  var url = screen.getAttribute("data-state-url");
  var qr = document.getElementById("screen-qr");
  var message = document.getElementById("screen-message");
  var stale = document.getElementById("screen-stale");
  var codeBox = document.getElementById("screen-code-box");
  var code = document.getElementById("screen-code");
  var checkedIn = document.getElementById("screen-checked-in");
  var expected = document.getElementById("screen-expected");
  var RETRY_MS = 3000;
  // The code on screen is accepted until this moment (this page's own clock, counted
  // from when the server's answer arrived).
  var validUntil = Date.now() + Number(screen.getAttribute("data-valid-ms") || 0);
  var timer = null;

  function show(state) {
    screen.setAttribute("data-state", state.state);
    message.textContent = state.message;
    checkedIn.textContent = String(state.checked_in);
    expected.textContent = String(state.expected);
    if (state.qr) {
      if (qr.getAttribute("src") !== state.qr) { qr.setAttribute("src", state.qr); }
      qr.hidden = false;
      code.textContent = state.code;
      codeBox.hidden = false;
    } else {
      qr.hidden = true;
      codeBox.hidden = true;
    }
    validUntil = Date.now() + state.valid_ms;
    stale.hidden = true;
  }

  function hideIfDead() {
    if (Date.now() >= validUntil - 500) {
      qr.hidden = true;
      codeBox.hidden = true;
    }
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, ms);
  }

  function refresh() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.timeout = 4000;
    request.onload = function () {
      var state = null;
      if (request.status === 200) {
        try { state = JSON.parse(request.responseText); } catch (e) { state = null; }
      }
      if (state) {
        show(state);
        schedule(state.refresh_ms);
      } else {
        failed();
      }
    };
    request.onerror = request.ontimeout = failed;
    request.send();
  }

  function failed() {
    stale.hidden = false;
    hideIfDead();
    schedule(RETRY_MS);
  }

  // Keep the projector awake where the browser allows it.
  function keepAwake() {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { keepAwake(); refresh(); }
  });
  keepAwake();
  window.setInterval(hideIfDead, 1000);
  schedule(Number(screen.getAttribute("data-refresh-ms") || 1000));
})();
