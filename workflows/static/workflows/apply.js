/* CivicFlow's application pages, made quicker with JavaScript. Everything here also works
 * without it: each button is a real submit and the server decides. This file only saves
 * round trips (show-if and add/remove redraw the questions in place through the same server
 * code), keeps focus where people expect it, and warns before an idle session ends. */
(function () {
  "use strict";

  function announce(region, text) {
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  /* The error summary takes focus; each of its links focuses its question. */
  function errorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-focus]");
      if (!link) return;
      var field = document.getElementById(link.getAttribute("data-focus"));
      if (!field) return;
      event.preventDefault();
      var group = field.closest(".usa-form-group, .usa-fieldset") || field;
      group.scrollIntoView();
      field.focus({ preventScroll: true });
    });
  }

  /* One request at a time, in order: a redraw started by leaving a field finishes before
   * the save that the same click started. */
  var queue = Promise.resolve();
  function inTurn(work) {
    var next = queue.then(work, work);
    queue = next.catch(function () {});
    return next;
  }

  /* The page's answers saved as they stand, without checking them (the "save" action). */
  function saveNow(form) {
    return inTurn(function () {
      return fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: formData(form, "save"),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      });
    });
  }

  function formData(form, action) {
    var data = new FormData(form);
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      data.delete(input.name);
    });
    data.set("action", action || "");
    return data;
  }

  /* Show-if and repeat add/remove: the server redraws this page's questions for the answers
   * typed so far (nothing is saved), and the new questions replace the old in place. */
  function liveFields(form) {
    var url = form.getAttribute("data-fields-url");
    var container = form.querySelector("[data-fields]");
    var shown = form.querySelector("[data-shown]");
    var status = form.querySelector("[data-fields-status]");
    if (!url || !container || !shown) return;

    /* The answers as they stand, to tell whether the person changed anything while a redraw
     * was on its way: its questions would then replace answers it never saw. */
    function answersNow() {
      var parts = [];
      formData(form, "").forEach(function (value, key) {
        if (typeof value === "string") parts.push(key + "=" + value);
      });
      return parts.join("&");
    }

    function redraw(action, focusAfter) {
      var sent = "";
      return inTurn(function () {
        sent = answersNow();
        return fetch(url, {
          method: "POST",
          body: formData(form, action),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" }
        });
      }).then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      }).then(function (reply) {
        // Answered on since: the redraw that change asked for is queued and will come.
        if (!action && answersNow() !== sent) return;
        if (!action && reply.shown === shown.value) return;
        var active = document.activeElement && document.activeElement.id;
        container.innerHTML = reply.html;
        shown.value = reply.shown;
        var target = focusAfter ? focusAfter() : (active && document.getElementById(active));
        if (target) target.focus();
        announce(status, status.getAttribute("data-changed") || "The questions on this page have changed.");
      });
    }

    // What the person saw when they pressed a button: a question they never saw is shown to
    // them before Continue moves on (the server compares these names with the answers).
    form.addEventListener("submit", function () {
      var names = [];
      Array.prototype.forEach.call(container.querySelectorAll("[data-field]"), function (field) {
        names.push(field.getAttribute("data-field"));
      });
      shown.value = names.join(",");
    });

    container.addEventListener("change", function (event) {
      if (event.target.type === "file") return;
      redraw("").catch(function () { /* the full submit still decides */ });
    });

    container.addEventListener("click", function (event) {
      var button = event.target.closest("[data-repeat-action]");
      if (!button) return;
      event.preventDefault();
      var action = button.value;
      var repeatName = action.slice(action.indexOf(":") + 1).replace(/\.\d+$/, "");
      redraw(action, function () {
        var repeat = container.querySelector('[data-repeat="' + repeatName + '"]');
        if (!repeat) return null;
        var items = repeat.querySelectorAll("[data-repeat-item]");
        if (action.indexOf("add:") === 0 && items.length) {
          return items[items.length - 1].querySelector("input, select, textarea");
        }
        return items.length ? items[items.length - 1] : repeat.querySelector(".repeat__add");
      }).catch(function () { form.requestSubmit(button); });
    });
  }

  /* "Save and come back later" saves in place and says so: saving, saved, or failed. */
  function saveInPlace(form) {
    var button = form.querySelector("[data-save]");
    var status = form.querySelector("[data-save-status]");
    if (!button || !status) return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      status.textContent = status.getAttribute("data-saving");
      saveNow(form).then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      }).then(function (reply) {
        status.textContent = status.getAttribute("data-saved") + " " + reply.at + ". ";
        var link = document.createElement("a");
        link.className = "usa-link";
        link.href = status.getAttribute("data-link");
        link.textContent = status.getAttribute("data-link-text");
        status.appendChild(link);
        timeout.restart();
      }).catch(function () {
        status.textContent = status.getAttribute("data-failed");
      });
    });
  }

  /* A warning before an idle session ends, with "Continue" to keep going. */
  var timeout = (function () {
    var box = document.getElementById("session-timeout");
    var warnTimer = null;
    var endTimer = null;
    function restart() {
      if (!box) return;
      var idle = parseInt(box.getAttribute("data-idle-seconds"), 10);
      if (!idle) return;
      window.clearTimeout(warnTimer);
      window.clearTimeout(endTimer);
      box.hidden = true;
      var warnAfter = Math.max(idle - 120, Math.floor(idle / 2));
      warnTimer = window.setTimeout(function () {
        box.hidden = false;
        var button = box.querySelector("[data-keepalive-continue]");
        if (button) button.focus();
      }, warnAfter * 1000);
      endTimer = window.setTimeout(function () { window.location.reload(); }, (idle + 1) * 1000);
    }
    if (box) {
      box.querySelector("[data-keepalive-continue]").addEventListener("click", function () {
        var token = document.querySelector("input[name=csrfmiddlewaretoken]");
        var body = new FormData();
        if (token) body.set("csrfmiddlewaretoken", token.value);
        fetch(box.getAttribute("data-keepalive"), { method: "POST", body: body, credentials: "same-origin" })
          .then(function () { restart(); });
      });
    }
    return { restart: restart };
  })();

  /* One click submits once; the server refuses a second case anyway. */
  function submitOnce() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-prevent-double-submit]"), function (button) {
      button.form.addEventListener("submit", function () {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  }

  function printButton() {
    var button = document.querySelector("[data-print]");
    if (!button) return;
    button.hidden = false;
    var hint = document.querySelector("[data-print-hint]");
    if (hint) hint.hidden = true;
    button.addEventListener("click", function () { window.print(); });
  }

  /* Changing language reloads the page: what was typed on it is saved first. */
  function saveBeforeLanguageChange(form) {
    var switcher = document.querySelector("form.language-switch");
    if (!switcher) return;
    switcher.addEventListener("submit", function (event) {
      event.preventDefault();
      saveNow(form).catch(function () {}).then(function () { switcher.submit(); });
    });
  }

  errorSummary();
  var wizard = document.querySelector("form.wizard");
  if (wizard) {
    liveFields(wizard);
    saveInPlace(wizard);
    saveBeforeLanguageChange(wizard);
  }
  timeout.restart();
  submitOnce();
  printButton();
})();
