/* Copy-link buttons: <button data-copy="#input-id" hidden> next to a read-only input. */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) { return; }
    var status = button.closest(".share-copy") && button.closest(".share-copy").querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      function done(ok) {
        // The words come from the page (data-copied, data-copy-failed), in its language.
        if (status) {
          status.textContent = ok
            ? status.getAttribute("data-copied") || "Link copied."
            : status.getAttribute("data-copy-failed") || "Select the link and copy it.";
        }
      }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
      } else {
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
    });
  });
})();
