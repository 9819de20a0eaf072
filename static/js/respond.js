// Autosave on the respondent form: answers are posted as they are given, so nothing typed is
// lost when the page is closed. The form works without this script; with it, each save goes
// through the page's own step (CSRF token, a fresh submission key per save, commit before the
// reply) as action "autosave", which stores what is valid and never moves the respondent on.
(function () {
  "use strict";
  var form = document.querySelector("form.r-form[data-autosave-key]");
  if (!form || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  var status = form.querySelector(".r-autosave");
  var key = form.getAttribute("data-autosave-key");
  var target = form.getAttribute("action"); // form.action is the buttons named "action"
  var CHOICE_DELAY = 400; // taps in quick succession make one save
  var TYPING_DELAY = 1200;
  var timer = null;
  var inFlight = null;
  var dirty = false;
  var submitting = false;

  function show(saved) {
    if (!status) return;
    var message = status.getAttribute(saved ? "data-saved" : "data-failed");
    if (status.textContent !== message) status.textContent = message;
  }

  function later(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  function save(keepalive) {
    clearTimeout(timer);
    if (inFlight) {
      // One save at a time, in order: a later one must never be overtaken by an earlier one.
      inFlight.then(function () { if (dirty) later(0); });
      return;
    }
    if (!dirty) return;
    dirty = false;
    var body = new URLSearchParams(new FormData(form));
    body.set("submission_key", key);
    body.set("action", "autosave");
    inFlight = fetch(target, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      keepalive: keepalive === true,
      headers: { Accept: "application/json" },
    })
      .then(function (reply) {
        if (!reply.ok) throw new Error("autosave " + reply.status);
        return reply.json();
      })
      .then(function (reply) {
        key = reply.key;
        // Not saved: the key had been used (a reply lost on the way); save again with the new one.
        if (!reply.saved) { dirty = true; later(0); }
        else show(true);
      })
      .catch(function () {
        dirty = true;
        show(false);
      })
      .then(function () { inFlight = null; });
  }

  function changed(event) {
    var field = event.target;
    if (!field.name || submitting) return;
    dirty = true;
    var typed = field.tagName === "TEXTAREA" || field.type === "text";
    later(typed ? TYPING_DELAY : CHOICE_DELAY);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (submitting) return;
    submitting = true;
    clearTimeout(timer);
    dirty = false; // the form itself carries every answer
    if (inFlight && form.requestSubmit && event.submitter) {
      // Let a save under way commit first, so that it cannot land after this submit.
      event.preventDefault();
      var submitter = event.submitter;
      inFlight.then(function () { form.requestSubmit(submitter); });
    }
  });
  function leaving() {
    if (dirty && !submitting) save(true);
  }
  window.addEventListener("pagehide", leaving);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leaving();
  });
})();
