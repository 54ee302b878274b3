// Reading a material. The server decides the reading time: this page only tells it, in
// heartbeats, whether the stretch since the previous beat was reading, i.e. the page was
// visible and in focus (Page Visibility API) and the reader scrolled, touched or typed
// within the last minute. It never sends a duration. A beat goes out every few seconds
// while reading, when reading stops (the stretch counts), and when it starts again (the
// stretch before did not). Each tab keeps one random token (sessionStorage), so the server
// can tell a second tab or device, which earns nothing while this one reads.
// Checkpoint answers are posted in place and the graded answer replaces the form.
// The learning record page uses this file only for its print button.
(function () {
  "use strict";
  // The learning record's print button (no inline script: the CSP allows none).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var root = document.getElementById("reading");
  if (!root) { return; }
  var messages = document.getElementById("reading-messages").dataset;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var beatMs = Math.max(1, Number(root.dataset.beatSeconds)) * 1000;
  var idleMs = Number(root.dataset.idleSeconds) * 1000;
  var minSeconds = Number(root.dataset.minSeconds);
  var credited = Number(root.dataset.creditedSeconds);
  var unanswered = Number(root.dataset.unanswered);
  var tracking = root.dataset.tracking === "true";
  var token = tabToken();
  var stateEl = document.getElementById("reading-state");
  var creditedEl = document.getElementById("credited");
  var notice = document.getElementById("reading-notice");
  var button = document.getElementById("complete-button");
  var lastInteraction = Date.now();
  var reading = false;      // was the stretch since the last beat reading?
  var lastBeat = 0;
  var elsewhere = false;

  function tabToken() {
    var key = "studyhall-reading-" + root.dataset.key;
    try {
      var kept = sessionStorage.getItem(key);
      if (kept && /^[A-Za-z0-9_-]{1,32}$/.test(kept)) { return kept; }
      sessionStorage.setItem(key, root.dataset.token);
    } catch (e) { /* private mode: this page's token serves */ }
    return root.dataset.token;
  }

  function isReading() {
    return document.visibilityState === "visible" && document.hasFocus() &&
      Date.now() - lastInteraction < idleMs;
  }

  // ---- what the page shows ----
  function clock(seconds) {
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }
  function showNotice(text) { notice.textContent = text || ""; notice.hidden = !text; }
  function showState() {
    if (!tracking) { return; }
    if (elsewhere) { stateEl.textContent = messages.paused; return; }
    if (reading) { stateEl.textContent = messages.counting; return; }
    var idle = document.visibilityState === "visible" && document.hasFocus();
    stateEl.textContent = idle ? messages.idle : messages.paused;
  }
  function showProgress() {
    creditedEl.textContent = clock(credited);
    var timeMet = credited >= minSeconds;
    var needTime = document.getElementById("need-time");
    var needAnswers = document.getElementById("need-answers");
    if (needTime) { needTime.classList.toggle("met", timeMet); }
    if (needAnswers) { needAnswers.classList.toggle("met", unanswered === 0); }
    if (button) { button.disabled = !(timeMet && unanswered === 0); }
  }

  // ---- heartbeats ----
  function post(url, body, extraHeaders) {
    var headers = { "X-CSRFToken": csrf, "Accept": "application/json" };
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(url, {
      // A redirect (to the login page) must never look like a counted beat.
      method: "POST", credentials: "same-origin", keepalive: true, redirect: "manual",
      headers: headers, body: body
    }).then(function (reply) {
      return reply.json().catch(function () { return {}; }).then(function (data) {
        return { status: reply.status, data: data };
      });
    });
  }
  function beat(active) {
    lastBeat = Date.now();
    post(root.dataset.beatUrl, JSON.stringify({ token: token, active: active }),
         { "Content-Type": "application/json" })
      .then(function (result) {
        var data = result.data;
        if (result.status === 200 && data.ok === true) {
          credited = Math.max(credited, data.credited_seconds);
          elsewhere = !data.held;
          showNotice(elsewhere ? (data.message || messages.elsewhere) : "");
          showProgress();
        } else if (data.error === "closed") {
          tracking = false;
          stateEl.textContent = "";
          showNotice(data.message || messages.closed);
        } else {
          showNotice(messages.signedOut);
        }
        showState();
      })
      .catch(function () { showNotice(messages.offline); });
  }

  // Called on every change of visibility, focus or use, and once a second.
  function check() {
    if (!tracking) { return; }
    var now = isReading();
    if (now && !reading) {
      beat(false);          // reading starts: the stretch before it does not count
    } else if (!now && reading) {
      beat(true);           // reading stops: the stretch up to now counts
    } else if (now && Date.now() - lastBeat >= beatMs) {
      beat(true);
    }
    reading = now;
    showState();
  }
  function interacted() {
    var wasIdle = Date.now() - lastInteraction >= idleMs;
    lastInteraction = Date.now();
    if (wasIdle) { check(); }
  }

  ["scroll", "touchstart", "keydown", "pointerdown", "wheel", "mousemove"].forEach(function (type) {
    window.addEventListener(type, interacted, { passive: true });
  });
  document.addEventListener("visibilitychange", check);
  window.addEventListener("focus", check);
  window.addEventListener("blur", check);
  window.addEventListener("pagehide", function () {
    if (tracking && reading) { reading = false; beat(true); }
  });
  setInterval(check, 1000);
  showProgress();
  check();

  // ---- checkpoints ----
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("checkpoint-form")) { return; }
    event.preventDefault();
    var error = form.querySelector(".checkpoint-error");
    var submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    post(form.action, new FormData(form))
      .then(function (result) {
        submit.disabled = false;
        if (result.status === 200 && result.data.ok === true) {
          var section = form.closest("section.checkpoint");
          section.insertAdjacentHTML("afterend", result.data.html);
          section.parentNode.removeChild(section);
          unanswered = result.data.unanswered;
          showProgress();
        } else {
          error.textContent = result.data.message || messages.signedOut;
          error.hidden = false;
        }
      })
      .catch(function () {
        submit.disabled = false;
        error.textContent = messages.offline;
        error.hidden = false;
      });
  });
})();
