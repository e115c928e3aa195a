// crisisflow's pages, enhanced. Every page works without this script; with it:
// - times (<time datetime>) read in the reader's own time zone, and countdowns run;
// - the statement editor previews every channel's variant with its count against its limit as you
//   type (asked of the server, POST …/view/preview, once typing pauses);
// - pages marked data-live-refresh="<url>" fetch themselves every LIVE_MS and swap in the parts
//   marked data-live that changed (never one you are typing in), and say when the connection is lost.
// No build step and no library: the project's CSP allows this one file ('self') and nothing inline.
(function () {
  "use strict";
  var LIVE_MS = 1000;
  var PREVIEW_MS = 300;  // the editor asks for a preview once typing pauses this long
  var localTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });

  function span(ms) {
    var minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 1) return "under a minute";
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (hours < 48) return hours + " h" + (rest ? " " + rest + " min" : "");
    return Math.round(hours / 24) + " days";
  }

  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach(function (element) {
      if (element.dataset.localized) return;
      var moment = new Date(element.getAttribute("datetime"));
      if (isNaN(moment)) return;
      element.title = element.textContent;
      element.textContent = localTime.format(moment);
      element.dataset.localized = "1";
      if (element.classList.contains("countdown")) {
        var left = document.createElement("span");
        left.className = "left";
        element.insertAdjacentElement("afterend", left);
      }
    });
    tick(root);
  }

  function tick(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time.countdown").forEach(function (element) {
      var left = element.nextElementSibling;
      if (!left || !left.classList.contains("left")) return;
      var ms = new Date(element.getAttribute("datetime")) - now;
      var text = ms >= 0 ? " (in " + span(ms) + ")" : " (overdue by " + span(ms) + ")";
      if (left.textContent !== text) left.textContent = text;
      left.classList.toggle("status-overdue", ms < 0);
    });
  }

  // The statement editor's preview: each channel's count comes from the server (domain/variants.py
  // through the workflow), never counted here, so the page and the approval agree to the character.
  var previews = {};

  function askPreview(form) {
    var mine = (previews[form.id] || 0) + 1;
    previews[form.id] = mine;
    var summary = document.getElementById("statement-preview-summary");
    var request = new XMLHttpRequest();
    request.open("POST", form.dataset.previewUrl);
    request.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    request.setRequestHeader("Accept", "text/html");
    request.setRequestHeader("X-Crisis-Preview", "1");
    request.timeout = 10000;
    request.onload = function () {
      if (previews[form.id] !== mine) return;  // a newer preview is on its way
      if (request.status !== 200) {
        if (summary) summary.textContent = "No preview: the server answered " + request.status + ". The counts shown may be out of date.";
        return;
      }
      var fresh = new DOMParser().parseFromString(request.responseText, "text/html");
      fresh.querySelectorAll("[data-preview-part][id]").forEach(function (part) {
        var current = document.getElementById(part.id);
        if (!current) return;
        if (current.innerHTML !== part.innerHTML) current.innerHTML = part.innerHTML;
        current.className = part.className;
      });
    };
    request.onerror = request.ontimeout = function () {
      if (previews[form.id] === mine && summary) summary.textContent = "No preview: the connection was lost. The counts shown may be out of date.";
    };
    request.send(new URLSearchParams(new FormData(form)).toString());
  }

  var previewTimers = {};
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !form.dataset.previewUrl || !event.target.hasAttribute("data-preview")) return;
    window.clearTimeout(previewTimers[form.id]);
    previewTimers[form.id] = window.setTimeout(function () { askPreview(form); }, PREVIEW_MS);
  });

  function typing(root) {
    // Someone is filling a form here: focus in a field, a form changed, or a refusal showing.
    var active = document.activeElement;
    return Boolean(active && root.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) ||
      root.querySelector("form[data-dirty], .field-error") !== null;
  }

  function busy(section) {
    // A section someone is using stays as it is: focus inside it, a form changed, or a refusal showing.
    return section.contains(document.activeElement) && document.activeElement !== document.body ||
      section.querySelector("form[data-dirty], .field-error, details[open]") !== null;
  }

  function liveIds(root) {
    return Array.from(root.querySelectorAll("[data-live][id]")).map(function (element) { return element.id; }).join(" ");
  }

  var notice = document.getElementById("connection");
  var failures = 0;

  function say(text) {
    if (!notice) return;
    notice.hidden = !text;
    notice.textContent = text || "";
  }

  function refresh(url) {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "text/html");
    request.setRequestHeader("X-Crisis-Live", "1");  // the server leaves out the editor's preview: it is asked for apart
    request.timeout = 10000;
    request.onload = function () {
      if (request.status !== 200 || request.responseURL.indexOf("/login") !== -1) {
        failures += 1;
        say(request.responseURL.indexOf("/login") !== -1 ? "You are signed out: sign in again to see changes." :
          "The server answered " + request.status + ": what you see may be out of date. Retrying…");
        return later(url);
      }
      if (failures) say("");
      failures = 0;
      var fresh = new DOMParser().parseFromString(request.responseText, "text/html");
      var main = document.querySelector("main");
      var busyAnywhere = typing(main) || Array.from(main.querySelectorAll("[data-live]")).some(busy);
      if (liveIds(fresh) !== liveIds(document) && !busyAnywhere) {
        main.innerHTML = fresh.querySelector("main").innerHTML;
        enhance(main);
        main.querySelectorAll("form[data-preview-url]").forEach(askPreview);
      } else {
        fresh.querySelectorAll("[data-live][id]").forEach(function (section) {
          var current = document.getElementById(section.id);
          if (!current || busy(current) || current.dataset.source === section.innerHTML) return;
          current.innerHTML = section.innerHTML;
          current.dataset.source = section.innerHTML;
          enhance(current);
        });
      }
      later(url);
    };
    request.onerror = request.ontimeout = function () {
      failures += 1;
      say("Connection lost: what you see may be out of date. Retrying…");
      later(url);
    };
    request.send();
  }

  function later(url) {
    window.setTimeout(function () { refresh(url); }, failures ? Math.min(LIVE_MS * (failures + 1), 10000) : LIVE_MS);
  }

  function enhance(root) {
    localize(root);
    root.querySelectorAll("[data-live][id]").forEach(function (section) {
      if (section.dataset.source === undefined) section.dataset.source = section.innerHTML;
    });
  }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form) form.dataset.dirty = "1";
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form) form.dataset.dirty = "1";
  });

  document.querySelectorAll("[data-live][id]").forEach(function (section) {
    section.dataset.source = section.innerHTML;
  });
  enhance(document);
  window.setInterval(tick, 1000);
  var url = document.body.dataset.liveRefresh;
  if (url) later(url);
})();
