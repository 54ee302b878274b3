// Writing a reflection (心得体会) on a phone.
//
// The counter counts 字数 by the rule of studyhall/study/text.py (count_length), mirrored
// here line by line; tests/browser/test_reflection.py checks that both agree.
//
// The text is autosaved as a draft a moment after typing stops, and at once when the
// page is hidden. Until the server has acknowledged a text it is kept in localStorage,
// so a dropped network, a reload or a closed tab loses nothing: it is resent when the
// connection returns or the page opens again. The save state shows a failure only when a
// save was tried and failed. The page says which submitted version it was built on
// (based_on); when the server answers that a newer version exists (409), this page stops
// saving, so a stale tab never writes over a submitted reflection, and its unsent text
// is offered for copying instead of being dropped.
(function () {
  "use strict";

  // ---- 字数 (keep in step with studyhall/study/text.py) ----
  var CJK_RANGES = [
    [0x3005, 0x3005], [0x3007, 0x3007], [0x3041, 0x3096], [0x30A1, 0x30FA],
    [0x30FC, 0x30FC], [0x3400, 0x4DBF], [0x4E00, 0x9FFF], [0xAC00, 0xD7A3],
    [0xF900, 0xFAFF], [0x20000, 0x2FA1F], [0x30000, 0x323AF]
  ];
  var WORD_JOINERS = "'\u2019-";
  var NUMBER_JOINERS = ".,";
  var ASCII_DIGITS = "0123456789";
  var LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
  var MARK = /^\p{M}$/u;

  function isCjk(char) {
    var code = char.codePointAt(0);
    for (var i = 0; i < CJK_RANGES.length; i++) {
      if (code >= CJK_RANGES[i][0] && code <= CJK_RANGES[i][1]) { return true; }
    }
    return false;
  }
  function isWordChar(char) { return LETTER_OR_DIGIT.test(char) && !isCjk(char); }
  function continuesWord(chars, i) {
    var char = chars[i];
    if (MARK.test(char)) { return true; }
    if (i + 1 >= chars.length) { return false; }
    var following = chars[i + 1];
    if (WORD_JOINERS.indexOf(char) >= 0) { return isWordChar(following); }
    return NUMBER_JOINERS.indexOf(char) >= 0 && ASCII_DIGITS.indexOf(chars[i - 1]) >= 0 &&
      ASCII_DIGITS.indexOf(following) >= 0;
  }
  function countLength(text) {
    var chars = Array.from(text.normalize("NFC"));  // code points, as Python iterates
    var count = 0;
    var inWord = false;
    for (var i = 0; i < chars.length; i++) {
      var char = chars[i];
      if (isCjk(char)) {
        count += 1;
        inWord = false;
      } else if (isWordChar(char)) {
        if (!inWord) { count += 1; inWord = true; }
      } else if (inWord && continuesWord(chars, i)) {
        continue;
      } else {
        inWord = false;
      }
    }
    return count;
  }
  window.StudyHall = window.StudyHall || {};
  window.StudyHall.countLength = countLength;

  var root = document.getElementById("reflection");
  if (!root) { return; }
  var data = root.dataset;
  var messages = document.getElementById("reflection-messages").dataset;
  var storeKey = "studyhall-reflection-" + data.owner + "-" + data.target;
  var basedOn = Number(data.basedOn);
  var textarea = document.getElementById("body");
  var notice = document.getElementById("notice");

  // ---- the copy kept on this device ----
  function loadPending() {
    try { return JSON.parse(localStorage.getItem(storeKey)); } catch (e) { return null; }
  }
  function storePending(value) {
    try {
      if (value) { localStorage.setItem(storeKey, JSON.stringify(value)); }
      else { localStorage.removeItem(storeKey); }
    } catch (e) { /* private mode or full: the server copy still holds what was sent */ }
  }
  function showNotice(text) { notice.textContent = text; notice.hidden = !text; }

  // Text this device never got onto the server, from a page that is out of date now:
  // shown for copying, never sent.
  function offerOrphan(text) {
    var box = document.getElementById("orphan");
    box.querySelector("textarea").value = text;
    box.hidden = false;
    box.querySelector("[data-discard]").addEventListener("click", function () {
      storePending(null);
      box.hidden = true;
    });
  }

  var pending = loadPending();
  if (pending && typeof pending.body !== "string") { pending = null; }
  if (pending && pending.basedOn !== basedOn) {
    if (pending.submitting && basedOn > pending.basedOn) { storePending(null); }  // it went through
    else { offerOrphan(pending.body); }
    pending = null;
  }
  if (!textarea) {
    // Submitted or closed: nothing to edit here.
    if (pending && pending.basedOn === basedOn) { offerOrphan(pending.body); }
    return;
  }

  var form = document.getElementById("reflection-form");
  var counter = document.getElementById("count");
  var stateEl = document.getElementById("save-state");
  var minChars = Number(data.min);
  var inFlight = false;
  var failed = false;
  var locked = false;
  var submitting = false;
  var timer = null;
  var retryTimer = null;
  var retryDelay = 1000;
  var savedTime = data.savedTime || "";  // HH:mm in the school's time zone, from the server

  function refreshCount() {
    var count = countLength(textarea.value);
    counter.textContent = messages.count.replace("{n}", count).replace("{min}", minChars);
    counter.classList.toggle("short", count < minChars);
    counter.classList.toggle("enough", count >= minChars);
    return count;
  }
  function showState() {
    stateEl.classList.remove("saving", "unsaved", "editing");
    var text = "";
    if (locked) {
      text = "";
    } else if (failed) {
      text = navigator.onLine ? messages.failed : messages.offline;
      stateEl.classList.add("unsaved");
    } else if (inFlight) {
      text = messages.saving;
      stateEl.classList.add("saving");
    } else if (pending) {
      text = messages.editing;
      stateEl.classList.add("editing");
    } else if (savedTime) {
      text = messages.saved.replace("{time}", savedTime);
    }
    stateEl.textContent = text;
  }
  function lock(text) {
    locked = true;
    textarea.readOnly = true;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    clearTimeout(timer);
    clearTimeout(retryTimer);
    showNotice(text);
    showState();
  }

  function post(body) {
    return fetch(data.draftUrl, {
      // A redirect (to the login page) must never look like a saved draft.
      method: "POST", credentials: "same-origin", keepalive: body.body.length < 20000,
      redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrf,
                 "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (reply) {
      return reply.json().catch(function () { return {}; }).then(function (json) {
        return { status: reply.status, data: json };
      });
    });
  }
  function send() {
    clearTimeout(timer);
    if (locked || submitting || inFlight || !pending) { return; }
    var sent = pending.body;
    inFlight = true;
    showState();
    post({ body: sent, based_on: basedOn }).then(function (result) {
      inFlight = false;
      if (result.status === 200 && result.data.ok === true) {
        failed = false;
        retryDelay = 1000;
        savedTime = result.data.saved_time;
        if (pending && pending.body === sent) { pending = null; storePending(null); }
        showNotice("");
      } else if (result.status === 409) {
        // Submitted from another page, or closed: stop here; the text stays on the device.
        failed = true;
        lock(result.data.error === "closed" ? result.data.message : messages.stale);
        return;
      } else if (result.status === 422) {
        failed = true;  // refused as it is (too long): wait for the next edit
        showNotice(result.data.message || "");
      } else {
        failed = true;
        if (result.status === 0 || result.status === 400) { showNotice(messages.signedOut); }
        retryLater();
      }
      showState();
      if (pending && pending.body !== sent && !failed) { schedule(0); }
    }).catch(function () {
      inFlight = false;
      failed = true;
      showState();
      retryLater();
    });
  }
  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(send, delay);
  }
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(send, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  textarea.addEventListener("input", function () {
    if (locked) { return; }
    refreshCount();
    pending = { body: textarea.value, basedOn: basedOn };
    storePending(pending);
    showState();
    schedule(1200);
  });
  form.addEventListener("submit", function (event) {
    if (locked || submitting) { event.preventDefault(); return; }
    var count = refreshCount();
    if (count < minChars) {
      event.preventDefault();
      showNotice(messages.tooShort.replace("{n}", count).replace("{min}", minChars));
      return;
    }
    if (!navigator.onLine) {
      event.preventDefault();
      showNotice(messages.offlineSubmit);
      return;
    }
    // Kept until the next page shows the submission went through.
    submitting = true;
    clearTimeout(timer);
    clearTimeout(retryTimer);
    storePending({ body: textarea.value, basedOn: basedOn, submitting: true });
  });
  window.addEventListener("online", function () {
    retryDelay = 1000;
    if (pending) { send(); }
    showState();
  });
  window.addEventListener("offline", showState);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && pending) { send(); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (pending && !locked && !submitting) { event.preventDefault(); event.returnValue = ""; }
  });

  // Text typed on this page before a reload (or offline) and never acknowledged.
  if (pending) {
    if (pending.body === textarea.value) {
      pending = null;
      storePending(null);
    } else {
      pending = { body: pending.body, basedOn: basedOn };
      textarea.value = pending.body;
      storePending(pending);
      schedule(0);
    }
  }
  refreshCount();
  showState();
})();
