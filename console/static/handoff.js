// The handoff page: new messages from the resident appear without reloading (polled).
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var labels = { resident: "居民", staff: "工作人员", system: "系统" };
  function poll() {
    fetch(live.dataset.poll + "?after=" + live.dataset.after, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        data.messages.forEach(function (m) {
          if (live.querySelector('[data-id="' + m.id + '"]')) return;
          var li = document.createElement("li");
          li.dataset.id = m.id;
          var who = document.createElement("strong");
          who.textContent = (labels[m.who] || m.who) + (m.who === "staff" ? " " + m.author : "") + "：";
          li.appendChild(who);
          li.appendChild(document.createTextNode(m.text));
          live.appendChild(li);
          live.dataset.after = m.id;
        });
      })
      .catch(function () {});
  }
  setInterval(poll, 3000);
})();
