/* On the host page: resize petitions iframes to fit their content.
   <iframe src="https://petitions.example/embed/CAMPAIGN/ACTION" data-petitions-embed ...></iframe>
   <script src="https://petitions.example/static/embed/embed.js" async></script> */
(function () {
  "use strict";
  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll("iframe[data-petitions-embed]"));
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "petitions:resize" || typeof data.height !== "number") { return; }
    frames().forEach(function (frame) {
      var origin;
      try { origin = new URL(frame.src, location.href).origin; } catch (e) { return; }
      if (frame.contentWindow === event.source && origin === event.origin) {
        frame.style.height = Math.max(150, Math.min(data.height, 5000)) + "px";
      }
    });
  });
})();
