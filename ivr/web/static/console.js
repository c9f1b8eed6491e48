// Live updates for the agent page. Without this file the page still works: the
// state forms post and reload, and "Refresh" shows the newest screen pop.
(function () {
  "use strict";
  // An answer that says what was done (a case opened, a transfer) takes the focus,
  // so a screen reader reads it at once.
  var done = document.querySelector("[data-focus]");
  if (done) { done.focus(); }
  var page = document.getElementById("agent-page");
  if (!page || !window.EventSource) { return; }
  var live = document.getElementById("pop-live");
  var detail = document.getElementById("pop-detail");
  var stateText = document.getElementById("state-text");
  var source = new EventSource(page.getAttribute("data-events"));
  // The live region already exists; only its text changes, so screen readers speak
  // it without focus moving.
  var actions = document.getElementById("call-actions");
  source.addEventListener("pop", function (e) {
    var data = JSON.parse(e.data);
    detail.innerHTML = data.html;
    live.textContent = data.summary;
    // The call's forms are new only for a new call: what the agent typed stays.
    if (actions && data.uniqueid !== actions.getAttribute("data-call")) {
      actions.innerHTML = data.actions;
      actions.setAttribute("data-call", data.uniqueid);
    }
  });
  // The session ended (signed out, idle too long): stop listening, take the caller's
  // details off the screen, and say so; the link leads back to sign-in.
  source.addEventListener("ended", function (e) {
    var data = JSON.parse(e.data);
    source.close();
    detail.textContent = "";
    var again = document.createElement("a");
    again.id = "signin-again";
    again.href = data.href;
    again.textContent = data.link;
    detail.appendChild(again);
    live.textContent = data.text;
  });
  // How the emergency three-way call goes: its own polite live region, whose text
  // changes only when there is news (a repeat would be spoken twice).
  source.addEventListener("threeway", function (e) {
    var data = JSON.parse(e.data);
    var status = document.getElementById("threeway-status");
    if (status && status.textContent !== data.text) {
      status.textContent = data.text;
    }
  });
  source.addEventListener("state", function (e) {
    var data = JSON.parse(e.data);
    stateText.textContent = data.text;
    live.textContent = data.text;
  });
})();
