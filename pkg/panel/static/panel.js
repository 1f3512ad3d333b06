// Refreshes the initial sync's progress from /status.json while it runs; the page
// works without it (a <noscript> refresh does the same).
(function () {
  var box = document.getElementById("initial-sync");
  if (!box) return;
  var label = document.getElementById("initial-sync-label");
  function tick() {
    fetch("/status.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        var was = box.getAttribute("data-state");
        box.setAttribute("data-state", s.initial_sync.state);
        label.textContent = s.initial_sync_label;
        var bar = document.getElementById("initial-sync-progress");
        if (bar && s.initial_sync.total > 0) { bar.max = s.initial_sync.total; bar.value = s.initial_sync.done; }
        if (was === "running" && s.initial_sync.state !== "running") { window.location.reload(); return; }
        if (s.initial_sync.state === "running") setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  if (box.getAttribute("data-state") === "running") setTimeout(tick, 1000);
})();
