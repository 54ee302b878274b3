// Taking a quiz. Every change is saved to the server at once (text after a short pause);
// unsent answers are kept in localStorage and resent when the connection returns, so a
// reload, a dropped network or a closed tab loses nothing. The countdown runs from the
// server's deadline, corrected by the difference between the server's clock and this one.
(function () {
  "use strict";
  var root = document.getElementById("attempt");
  if (!root) { return; }
  var messages = document.getElementById("messages").dataset;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var storeKey = "studyhall-pending-" + root.dataset.attempt;
  var practice = root.dataset.practice === "true";
  var maxDepartures = root.dataset.maxDepartures;
  var stateEl = document.getElementById("save-state");
  var notice = document.getElementById("notice");
  var sections = Array.prototype.slice.call(root.querySelectorAll("section.q"));
  var pending = loadPending();      // position -> {response, flagged}
  var inFlight = {};                // position -> true while a request is out
  var timers = {};
  var retryDelay = 1000;
  var locked = false;
  var submitting = false;

  // ---- local copy of unsent answers ----
  function loadPending() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function storePending() {
    try {
      if (Object.keys(pending).length) { localStorage.setItem(storeKey, JSON.stringify(pending)); }
      else { localStorage.removeItem(storeKey); }
    } catch (e) { /* private mode: the server copy still holds what was sent */ }
  }

  // ---- reading and writing a question's inputs ----
  function responseOf(section) {
    var type = section.dataset.type;
    var inputs = section.querySelectorAll("[name^=r]");
    if (type === "single" || type === "true_false") {
      var checked = section.querySelector("[name^=r]:checked");
      if (!checked) { return null; }
      return type === "true_false" ? checked.value === "true" : checked.value;
    }
    if (type === "multiple") {
      var letters = [];
      section.querySelectorAll("[name^=r]:checked").forEach(function (i) { letters.push(i.value); });
      return letters.length ? letters : null;
    }
    if (type === "fill_blank") {
      var blanks = [];
      inputs.forEach(function (i) { blanks.push(i.value); });
      return blanks.some(function (b) { return b.trim(); }) ? blanks : null;
    }
    return inputs[0].value.trim() ? inputs[0].value : null;
  }
  function applyResponse(section, response) {
    var type = section.dataset.type;
    var inputs = section.querySelectorAll("[name^=r]");
    inputs.forEach(function (input, index) {
      if (input.type === "radio" || input.type === "checkbox") {
        var value = type === "true_false" ? String(response) : response;
        input.checked = Array.isArray(value) ? value.indexOf(input.value) >= 0 : input.value === value;
      } else if (type === "fill_blank") {
        input.value = response && response[index] !== undefined ? response[index] : "";
      } else {
        input.value = response || "";
      }
    });
  }
  function sectionAt(position) { return document.getElementById("q" + position); }
  function flaggedOf(section) { return section.querySelector("[data-flag]").checked; }
  function isAnswered(section) { return responseOf(section) !== null; }

  // ---- the grid and the save state ----
  function refreshCell(section) {
    var cell = root.querySelector('[data-goto="' + section.dataset.position + '"]');
    cell.classList.toggle("answered", isAnswered(section));
    cell.classList.toggle("flagged", flaggedOf(section));
  }
  function showState() {
    var waiting = Object.keys(pending).length;
    stateEl.classList.remove("saving", "unsaved");
    if (!waiting) { stateEl.textContent = messages.saved; return; }
    var sending = Object.keys(inFlight).length && navigator.onLine;
    stateEl.textContent = sending ? messages.saving : messages.unsaved;
    stateEl.classList.add(sending ? "saving" : "unsaved");
  }
  function showNotice(text) { notice.textContent = text; notice.hidden = !text; }
  function lock(text) {
    locked = true;
    root.classList.add("locked");
    showNotice(text);
  }

  // ---- saving ----
  function queue(section, delay) {
    var position = section.dataset.position;
    pending[position] = { response: responseOf(section), flagged: flaggedOf(section) };
    storePending();
    refreshCell(section);
    showState();
    clearTimeout(timers[position]);
    timers[position] = setTimeout(function () { send(position); }, delay);
  }
  function post(url, body) {
    return fetch(url, {
      // A redirect (to the login page) must never look like a saved answer.
      method: "POST", credentials: "same-origin", keepalive: true, redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf,
                 "Accept": "application/json" },
      body: JSON.stringify(body)
    });
  }
  function send(position) {
    if (locked || inFlight[position] || !pending[position]) { return; }
    var sent = pending[position];
    inFlight[position] = true;
    showState();
    post(root.dataset.saveUrl, { position: Number(position), response: sent.response,
                                 flagged: sent.flagged })
      .then(function (reply) {
        return reply.json().catch(function () { return {}; }).then(function (data) {
          return { status: reply.status, data: data };
        });
      })
      .then(function (result) {
        delete inFlight[position];
        var error = result.data.error;
        if (result.status === 200 && result.data.ok === true) {
          if (pending[position] === sent) { delete pending[position]; }
          storePending();
          retryDelay = 1000;
          if (result.data.feedback) { showFeedback(position, result.data.feedback); }
        } else if (error === "taken_over") {
          lock(messages.taken);
        } else if (error === "expired" || error === "submitted") {
          finish(messages.expired);
        } else if (result.status === 422 && error) {
          // Refused as malformed: keep the server's copy, drop this one.
          delete pending[position];
          storePending();
          showNotice(result.data.message || "");
        } else {
          // Signed out, an expired form, a redirect, a busy server: keep the answer on
          // this device and try again; nothing is dropped.
          if (result.data.message) { showNotice(result.data.message); }
          else if (result.status === 0 || result.status === 400) { showNotice(messages.signedOut); }
          retryLater();
        }
        showState();
        if (pending[position] && pending[position] !== sent) { send(position); }
      })
      .catch(function () {
        delete inFlight[position];
        showState();
        retryLater();
      });
  }
  function retryLater() {
    setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }
  function flush() { Object.keys(pending).forEach(send); }

  function showFeedback(position, feedback) {
    var box = sectionAt(position).querySelector(".feedback");
    box.replaceChildren();
    box.hidden = false;
    box.className = "feedback " + (feedback.correct ? "right" : "wrong");
    var lines = [feedback.manual ? messages.labelManual
      : (feedback.correct ? messages.labelRight : messages.labelWrong)];
    if (!feedback.manual) { lines.push(messages.labelKey + "：" + feedback.answer); }
    if (feedback.explanation) { lines.push(messages.labelNote + "：" + feedback.explanation); }
    if (feedback.source) { lines.push(messages.labelSource + "：" + feedback.source); }
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      box.appendChild(p);
    });
  }

  // ---- one question per screen, or all ----
  var current = 0;
  function show(index) {
    current = Math.max(0, Math.min(sections.length - 1, index));
    sections.forEach(function (s, i) { s.classList.toggle("current", i === current); });
    root.querySelectorAll(".q-cell[data-goto]").forEach(function (cell, i) {
      cell.classList.toggle("current", i === current);
    });
  }
  function setLayout(layout) {
    root.classList.toggle("one-per-screen", layout === "one");
    try { localStorage.setItem("studyhall-layout", layout); } catch (e) { /* ignore */ }
    show(current);
  }

  // ---- the clock ----
  var offset = new Date(root.dataset.serverNow).getTime() - Date.now();
  var deadline = new Date(root.dataset.deadline).getTime();
  var countdown = document.getElementById("countdown");
  function tick() {
    var left = Math.max(0, Math.floor((deadline - (Date.now() + offset)) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    countdown.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    countdown.classList.toggle("low", left < 300);
    if (left === 0 && !submitting) {
      submitting = true;
      flush();
      // The server finishes the attempt with what it holds; give saves a moment.
      setTimeout(function () { window.location.href = root.dataset.resultUrl; }, 1500);
    }
  }
  function finish(text) {
    lock(text);
    Object.keys(pending).forEach(function (p) { delete pending[p]; });
    storePending();
    setTimeout(function () { window.location.href = root.dataset.resultUrl; }, 2000);
  }

  // ---- leaving the page ----
  document.addEventListener("visibilitychange", function () {
    if (locked) { return; }
    var kind = document.visibilityState === "hidden" ? "leave" : "return";
    post(root.dataset.eventUrl, { kind: kind }).then(function (reply) {
      return reply.json();
    }).then(function (data) {
      if (data.submitted) { finish(messages.expired); return; }
      if (kind === "return" && data.departures) {
        var text = maxDepartures ? messages.leftLimit.replace("{max}", maxDepartures) : messages.left;
        showNotice(text.replace("{n}", data.departures));
      }
    }).catch(function () { /* offline: nothing to record now */ });
  });

  // ---- wiring ----
  root.addEventListener("change", function (event) {
    var section = event.target.closest("section.q");
    if (section && !locked) { queue(section, 0); }
  });
  root.addEventListener("input", function (event) {
    var section = event.target.closest("section.q");
    if (section && !locked && (event.target.type === "text" || event.target.tagName === "TEXTAREA")) {
      queue(section, 800);
    }
  });
  document.getElementById("paper").addEventListener("submit", function (e) { e.preventDefault(); });
  root.querySelectorAll("[data-goto]").forEach(function (cell, index) {
    cell.addEventListener("click", function () {
      show(index);
      sections[index].scrollIntoView({ block: "start" });
    });
  });
  function step(delta) {
    show(current + delta);
    sections[current].scrollIntoView({ block: "start" });
  }
  root.querySelectorAll("[data-prev]").forEach(function (b) { b.addEventListener("click", function () { step(-1); }); });
  root.querySelectorAll("[data-next]").forEach(function (b) { b.addEventListener("click", function () { step(1); }); });
  root.querySelectorAll("input[name=layout]").forEach(function (radio) {
    radio.addEventListener("change", function () { setLayout(radio.value); });
  });
  window.addEventListener("online", function () { showNotice(""); retryDelay = 1000; flush(); showState(); });
  window.addEventListener("offline", function () { showNotice(messages.offline); showState(); });
  window.addEventListener("beforeunload", function (event) {
    if (Object.keys(pending).length && !locked) { event.preventDefault(); event.returnValue = ""; }
  });

  var dialog = document.getElementById("confirm-submit");
  var submitForm = document.getElementById("submit-form");
  submitForm.addEventListener("submit", function (event) {
    if (submitForm.dataset.confirmed) { return; }
    event.preventDefault();
    var missing = sections.filter(function (s) { return !isAnswered(s); })
      .map(function (s) { return s.dataset.position; });
    var list = document.getElementById("unanswered-list");
    list.textContent = missing.length ? list.dataset.some + " " + missing.join("、") : list.dataset.none;
    dialog.showModal();
  });
  dialog.querySelector("[data-confirm-submit]").addEventListener("click", function () {
    flush();
    submitForm.dataset.confirmed = "1";
    // Wait briefly for answers in flight, then submit: the server grades what it holds.
    var waited = 0;
    (function go() {
      if (Object.keys(inFlight).length && waited < 5000) { waited += 200; setTimeout(go, 200); return; }
      submitting = true;
      submitForm.submit();
    })();
  });
  dialog.querySelector("[data-cancel-submit]").addEventListener("click", function () { dialog.close(); });

  // Answers typed here but never acknowledged by the server come back after a reload.
  Object.keys(pending).forEach(function (position) {
    var section = sectionAt(position);
    if (!section) { delete pending[position]; return; }
    applyResponse(section, pending[position].response);
    section.querySelector("[data-flag]").checked = !!pending[position].flagged;
    refreshCell(section);
  });
  storePending();
  var layout = "one";
  try { layout = localStorage.getItem("studyhall-layout") || "one"; } catch (e) { /* ignore */ }
  root.querySelector('input[name=layout][value="' + layout + '"]').checked = true;
  setLayout(layout);
  var firstOpen = sections.findIndex(function (s) { return !isAnswered(s); });
  show(firstOpen < 0 ? 0 : firstOpen);
  tick();
  setInterval(tick, 1000);
  showState();
  if (!navigator.onLine) { showNotice(messages.offline); }
  flush();
})();
