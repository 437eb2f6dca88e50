/* Inside the embed iframe: keep the counter live and tell the host page our height. */
(function () {
  "use strict";
  var main = document.querySelector("[data-count-url]");
  var url = main && main.getAttribute("data-count-url");
  var POLL_MS = 30000;

  // The figures the page's language's way (its <html lang>: "en" or "cy"), as the server wrote them.
  var LOCALE = (document.documentElement.lang || "en") + "-GB";

  function format(n) {
    try { return Number(n).toLocaleString(LOCALE); } catch (e) { return String(n); }
  }

  function refresh() {
    if (!url || !window.fetch || document.hidden) { return; }
    fetch(url, { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.querySelectorAll("[data-count]").forEach(function (el) {
          el.textContent = format(data.confirmed);
        });
        document.querySelectorAll("[data-progress]").forEach(function (el) {
          el.value = data.percent;
          var label = el.getAttribute("data-label");  // in the page's language, from the server
          if (label) { el.setAttribute("aria-label", label.replace("{percent}", data.percent)); }
          el.textContent = data.percent + "%";
        });
      })
      .catch(function () { /* keep the last figure */ });
  }

  function postHeight() {
    if (window.parent === window) { return; }
    var height = Math.ceil(document.documentElement.scrollHeight);
    // Only a height goes out, so any origin may read it; the host script checks our origin.
    window.parent.postMessage({ type: "petitions:resize", height: height, href: location.pathname }, "*");
  }

  if (url) { setInterval(refresh, POLL_MS); }
  window.addEventListener("load", postHeight);
  window.addEventListener("resize", postHeight);
  if (window.ResizeObserver) { new ResizeObserver(postHeight).observe(document.body); }
  postHeight();
})();
