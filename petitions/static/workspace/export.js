// Export page: polls the export's status and shows the download link when it is ready.
(function () {
  "use strict";
  var root = document.getElementById("export");
  if (!root) return;
  var url = root.getAttribute("data-status-url");
  // The statuses in the page's language (the template lists them).
  var names = JSON.parse(root.getAttribute("data-status-names") || "{}");
  // Figures the page's language's way (its <html lang>: "en" or "cy"), as the server wrote them.
  var LOCALE = (document.documentElement.lang || "en") + "-GB";
  function fmt(n) {
    try { return Number(n || 0).toLocaleString(LOCALE); } catch (e) { return String(n || 0); }
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (d) {
        document.getElementById("export-state").textContent = names[d.status] || d.status;
        document.getElementById("export-done").textContent = fmt(d.done);
        document.getElementById("export-total").textContent = fmt(d.total);
        var bar = document.getElementById("export-progress");
        bar.value = d.percent; bar.textContent = d.percent + "%";
        if (d.ready) {
          document.getElementById("export-download").setAttribute("href", d.download_url);
          document.getElementById("export-ready").hidden = false;
          return;
        }
        if (d.status === "queued" || d.status === "running") window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
