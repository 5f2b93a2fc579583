// Applies saved display preferences before first paint (no flash of the wrong mode).
(function () {
  try {
    var p = JSON.parse(localStorage.getItem("govbot.prefs") || "{}");
    var root = document.documentElement;
    if (p.elder) root.classList.add("elder");
    if (p.contrast) root.classList.add("contrast");
    if (p.step) root.setAttribute("data-font-step", String(p.step));
  } catch (e) { /* storage unavailable: defaults */ }
})();
