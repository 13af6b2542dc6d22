// offmon dashboard: polls the page's live fragment (main[data-src]) and swaps it in, so a
// page left open shows the live state without a reload. No inline script anywhere: the
// Content-Security-Policy is default-src 'self'.
"use strict";
(function () {
  const main = document.getElementById("live");
  const updated = document.getElementById("updated");
  if (!main || !main.dataset.src) return;
  const seconds = Math.max(1, Number(main.dataset.refresh) || 5);
  let refreshes = 0;

  async function refresh() {
    // A hidden tab costs the daemon nothing; it catches up when shown again.
    if (document.hidden) {
      setTimeout(refresh, seconds * 1000);
      return;
    }
    try {
      const response = await fetch(main.dataset.src, { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const html = await response.text();
      // The fragment is the server's own HTML with every label escaped.
      main.innerHTML = html;
      refreshes += 1;
      main.dataset.refreshes = String(refreshes);
      if (updated) {
        updated.textContent = "updated " + new Date().toISOString().slice(11, 19) + "Z";
        updated.classList.remove("failed");
      }
    } catch (e) {
      if (updated) {
        updated.textContent = "update failed (" + e.message + "), retrying";
        updated.classList.add("failed");
      }
    } finally {
      setTimeout(refresh, seconds * 1000);
    }
  }
  setTimeout(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && updated) updated.textContent = "updating";
  });
})();
