// Taking a quiz. Every change is saved to the server at once (text after a short pause);
// unsent answers are kept in localStorage, so a reload, a dropped network or a closed tab
// loses nothing. Only network failures and busy servers (5xx) are retried, with backoff;
// a save the server refuses (400/422, or 401 signed out) stays on this device with the
// server's reason on screen until the answer is changed, the page regains focus or is
// reloaded. The countdown runs from the server's deadline, corrected by the difference
// between the server's clock and this one. The server sends the page as it is shown
// (layout, current question), so the script changes nothing on load.
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
  var announcer = document.getElementById("announcer");
  var alarm = document.getElementById("alarm");
  var sections = Array.prototype.slice.call(root.querySelectorAll("section.q"));
  var cells = Array.prototype.slice.call(root.querySelectorAll(".q-cell[data-goto]"));
  var pending = loadPending();      // position -> {response, flagged, refused?}
  var inFlight = {};                // position -> true while a request is out
  var timers = {};
  var retryDelay = 1000;
  var retryTimer = null;
  var slowTimer = null;
  var failure = "";                 // why answers wait, while they do
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
  // A practice answer that was checked is final (the server refuses a change).
  function isFinal(section) {
    var group = section.querySelector("fieldset, textarea");
    return practice && !!group && group.disabled;
  }

  // ---- the grid ----
  function cellLabel(section, isCurrent) {
    var parts = [messages.question.replace("{n}", section.dataset.position),
                 isAnswered(section) ? messages.answered : messages.unanswered];
    if (flaggedOf(section)) { parts.push(messages.flagged); }
    if (isCurrent) { parts.push(messages.current); }
    return parts.join(messages.sep);
  }
  function refreshCell(section) {
    var index = sections.indexOf(section);
    var cell = cells[index];
    cell.classList.toggle("answered", isAnswered(section));
    cell.classList.toggle("flagged", flaggedOf(section));
    cell.classList.toggle("current", index === current);
    if (index === current) { cell.setAttribute("aria-current", "step"); }
    else { cell.removeAttribute("aria-current"); }
    cell.setAttribute("aria-label", cellLabel(section, index === current));
  }

  // ---- what is said ----
  function announce(text) {
    // Cleared first so that the same words twice are spoken twice.
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }
  function setState(kind, text) {
    if (kind !== "saving") { clearTimeout(slowTimer); slowTimer = null; }
    var previous = stateEl.dataset.state;
    text = text || (kind === "saved" ? messages.saved : messages.saving);
    if (previous === kind && stateEl.textContent === text) { return; }
    stateEl.dataset.state = kind;
    stateEl.textContent = text;
    stateEl.className = "save-state " + kind;
    // Spoken: a failure, and the final "saved" after a wait or a failure; never the
    // routine "saving" of every answer.
    if (kind === "failed" || (kind === "saved" && previous !== "saved")) { announce(text); }
  }
  // Called whenever the queue changes. A quick save shows nothing at all; a slow one says
  // "saving" after a moment; a failure is shown only once a request has failed.
  function showState() {
    if (!Object.keys(pending).length) { failure = ""; setState("saved"); return; }
    if (failure) { setState("failed", failure); return; }
    if (Object.keys(inFlight).length && !slowTimer && stateEl.dataset.state === "saved") {
      slowTimer = setTimeout(function () {
        slowTimer = null;
        if (Object.keys(inFlight).length && !failure) { setState("saving"); }
      }, 700);
    }
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
    var sent = pending[position];
    if (locked || inFlight[position] || !sent) { return; }
    delete sent.refused;
    inFlight[position] = true;
    showState();
    post(root.dataset.saveUrl, { position: Number(position), response: sent.response,
                                 flagged: sent.flagged })
      .then(function (reply) {
        return reply.json().catch(function () { return {}; }).then(function (data) {
          return { status: reply.status, data: data,
                   retryAfter: Number(reply.headers.get("Retry-After")) || 0 };
        });
      })
      .then(function (result) { delete inFlight[position]; settle(position, sent, result); })
      .catch(function () {
        // No answer at all: the network.
        delete inFlight[position];
        failure = messages.unsaved;
        showState();
        retryLater(0);
      });
  }
  function settle(position, sent, result) {
    var status = result.status, data = result.data, error = data.error;
    if (status === 200 && data.ok === true) {
      if (pending[position] === sent) { delete pending[position]; }
      storePending();
      retryDelay = 1000;
      if (data.feedback) {
        if (!data.feedback.manual && pending[position]) {
          // Checked, so final: a choice made while it was being checked cannot count.
          delete pending[position];
          storePending();
          applyResponse(sectionAt(position), sent.response);
          refreshCell(sectionAt(position));
        }
        showFeedback(position, data.feedback);
      }
      if (!Object.values(pending).some(function (p) { return p.refused; })) { failure = ""; }
      // The way is clear again: send what waited for a retry now.
      if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; flush(); }
    } else if (error === "taken_over") {
      lock(messages.taken);
    } else if (error === "expired" || error === "submitted") {
      finish(messages.expired);
    } else if (status >= 500 || status === 429) {
      // A busy or failing server: try again later, more slowly each time.
      failure = messages.busy;
      retryLater(result.retryAfter);
    } else {
      // Refused (bad input, a form that expired, signed out, a redirect): sending the
      // same again would be refused again. The answer stays on this device with the reason.
      if (pending[position] === sent) { sent.refused = status === 401 || status === 0 ? "auth" : "bad"; }
      storePending();
      var reason = data.message || (status === 0 ? messages.signedOut : "");
      failure = messages.refused.replace("{reason}", reason || status);
      if (status === 401 || status === 0) { showNotice(reason || messages.signedOut); }
    }
    showState();
    if (pending[position] && pending[position] !== sent) { send(position); }
  }
  function retryLater(seconds) {
    if (retryTimer) { return; }
    var delay = Math.max(retryDelay, seconds * 1000);
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }
  // Send what waits, except what the server refused (unless told to try those too).
  function flush(includeRefused) {
    Object.keys(pending).forEach(function (position) {
      var refused = pending[position].refused;
      if (!refused || includeRefused === true || includeRefused === refused) { send(position); }
    });
  }

  // ---- practice: the answer checked, explained, and final ----
  function feedbackLines(feedback) {
    var lines = [feedback.manual ? messages.labelManual
      : (feedback.correct ? messages.labelRight : messages.labelWrong)];
    if (!feedback.manual) { lines.push(messages.labelKey + "：" + feedback.answer); }
    if (feedback.explanation) { lines.push(messages.labelNote + "：" + feedback.explanation); }
    if (feedback.source) { lines.push(messages.labelSource + "：" + feedback.source); }
    return lines;
  }
  function showFeedback(position, feedback) {
    var section = sectionAt(position);
    var box = section.querySelector(".feedback");
    var lines = feedbackLines(feedback);
    box.replaceChildren();
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      box.appendChild(p);
    });
    box.className = "feedback " + (feedback.correct ? "right" : "wrong");
    box.hidden = false;
    if (!feedback.manual) {
      section.querySelectorAll("fieldset, textarea, [data-flag]").forEach(function (el) { el.disabled = true; });
      var check = section.querySelector("[data-check]");
      if (check) { check.hidden = true; }
    }
    announce(messages.question.replace("{n}", position) + messages.sep + lines.join(" "));
  }

  // ---- one question per screen, or all ----
  var current = Math.max(0, sections.indexOf(sectionAt(root.dataset.current)));
  var onePerScreen = root.classList.contains("one-per-screen");
  function show(index, focus) {
    current = Math.max(0, Math.min(sections.length - 1, index));
    sections.forEach(function (s, i) {
      s.hidden = onePerScreen && i !== current;
      refreshCell(s);
    });
    var target = "#" + sections[current].id + "-title";
    document.querySelectorAll("a[data-skip]").forEach(function (a) { a.setAttribute("href", target); });
    if (focus) {
      var heading = document.getElementById(sections[current].id + "-title");
      heading.focus({ preventScroll: true });
      sections[current].scrollIntoView({ block: "start" });
    }
  }
  function setLayout(layout) {
    onePerScreen = layout === "one";
    root.classList.toggle("one-per-screen", onePerScreen);
    // The server reads it to send the next page in this layout.
    document.cookie = "studyhall_layout=" + layout + "; path=/; max-age=31536000; samesite=lax";
    show(current, false);
  }

  // ---- the clock ----
  var offset = new Date(root.dataset.serverNow).getTime() - Date.now();
  var deadline = new Date(root.dataset.deadline).getTime();
  var countdown = document.getElementById("countdown");
  var warned = false;
  var WARN_SECONDS = 300;
  function tick() {
    var left = Math.max(0, Math.floor((deadline - (Date.now() + offset)) / 1000));
    // Without a time limit the bar shows the close date, until the last minutes.
    if (countdown.dataset.counting !== "false" || left < WARN_SECONDS) {
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      countdown.textContent = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
      countdown.classList.toggle("low", left < WARN_SECONDS);
    }
    if (left < WARN_SECONDS && left > 0 && !warned) {
      warned = true;
      alarm.textContent = messages.warning.replace("{n}", Math.ceil(left / 60));
    }
    if (left === 0 && !submitting) {
      submitting = true;
      flush(true);
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
    // Signed in again in another tab? Answers refused as signed out go now.
    if (kind === "return") { flush("auth"); }
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
  window.addEventListener("focus", function () { if (!locked) { flush("auth"); } });

  // ---- wiring ----
  // In practice, single choice and true/false are checked as soon as they are chosen;
  // other types wait for the "check" button, since the first letter or word would be final.
  function checksOnChange(section) {
    return !practice || section.dataset.type === "single" || section.dataset.type === "true_false";
  }
  function refreshCheck(section) {
    var check = section.querySelector("[data-check]");
    if (check) { check.disabled = !isAnswered(section); }
  }
  root.addEventListener("change", function (event) {
    var section = event.target.closest("section.q");
    if (!section || locked || isFinal(section)) { return; }
    if (event.target.matches("[data-flag]") || checksOnChange(section)) { queue(section, 0); }
    else { refreshCell(section); refreshCheck(section); }
  });
  root.addEventListener("input", function (event) {
    var section = event.target.closest("section.q");
    if (!section || locked || isFinal(section)) { return; }
    if (event.target.type === "text" || event.target.tagName === "TEXTAREA") {
      if (checksOnChange(section)) { queue(section, 800); }
      else { refreshCell(section); refreshCheck(section); }
    }
  });
  root.addEventListener("click", function (event) {
    var check = event.target.closest("[data-check]");
    if (check && !locked) { queue(check.closest("section.q"), 0); }
  });
  document.getElementById("paper").addEventListener("submit", function (e) { e.preventDefault(); });
  cells.forEach(function (cell, index) {
    cell.addEventListener("click", function () { show(index, true); });
  });
  document.querySelectorAll("a[data-skip]").forEach(function (link) {
    link.addEventListener("click", function (event) { event.preventDefault(); show(current, true); });
  });
  root.querySelectorAll("[data-prev]").forEach(function (b) { b.addEventListener("click", function () { show(current - 1, true); }); });
  root.querySelectorAll("[data-next]").forEach(function (b) { b.addEventListener("click", function () { show(current + 1, true); }); });
  root.querySelectorAll("input[name=layout]").forEach(function (radio) {
    radio.addEventListener("change", function () { setLayout(radio.value); });
  });
  window.addEventListener("online", function () { showNotice(""); retryDelay = 1000; flush(); });
  window.addEventListener("offline", function () { showNotice(messages.offline); });
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
    flush(true);
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

  // Answers typed here but never acknowledged by the server come back after a reload
  // (a checked practice answer is final: the server's copy stands).
  Object.keys(pending).forEach(function (position) {
    var section = sectionAt(position);
    if (!section || isFinal(section)) { delete pending[position]; return; }
    delete pending[position].refused;
    applyResponse(section, pending[position].response);
    section.querySelector("[data-flag]").checked = !!pending[position].flagged;
    refreshCell(section);
  });
  storePending();
  // (Ticked here, not in the page, whose only "checked" are the taker's answers.)
  root.querySelector('input[name=layout][value="' + (onePerScreen ? "one" : "all") + '"]').checked = true;
  sections.forEach(refreshCheck);
  tick();
  setInterval(tick, 1000);
  showState();
  if (!navigator.onLine) { showNotice(messages.offline); }
  flush();
})();
