// Label every cell with its column's heading, so a phone can show each row as a small card.
function labelCells(root) {
  "use strict";
  Array.prototype.forEach.call(root.querySelectorAll("table.list"), function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (!cell.hasAttribute("colspan") && heads[i]) { cell.setAttribute("data-label", heads[i]); }
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { labelCells(document); });

// Keep the escalation list current: fetch its rows every few seconds and mark the new ones.
(function () {
  "use strict";
  var table = document.querySelector("table[data-refresh]");
  if (!table) { return; }
  var body = table.querySelector("tbody");
  var note = document.getElementById("refreshed");
  function ids(root) {
    return Array.prototype.map.call(root.querySelectorAll("tr[data-id]"), function (row) {
      return row.getAttribute("data-id");
    });
  }
  var known = ids(body);
  function refresh() {
    fetch(table.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (reply) {
        // Sent to the log-in page: the session ended, so let the whole page go there.
        if (reply.redirected) { window.location.reload(); throw new Error("logged out"); }
        if (!reply.ok) { throw new Error("HTTP " + reply.status); }
        return reply.text();
      })
      .then(function (html) {
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        ids(holder).forEach(function (id) {
          if (known.indexOf(id) < 0) {
            holder.querySelector('tr[data-id="' + id + '"]').className = "fresh";
          }
        });
        known = ids(holder);
        body.innerHTML = holder.innerHTML;
        labelCells(table.parentNode);
        if (note) { note.textContent = "Refreshed " + new Date().toLocaleTimeString() + "."; }
      })
      .catch(function (error) {
        if (note) { note.textContent = "Could not refresh (" + error.message + ")."; }
      });
  }
  window.setInterval(refresh, 3000);
})();

// Ask before a change a misclick should not make (a form or button with data-confirm).
document.addEventListener("submit", function (event) {
  "use strict";
  var asker = [event.submitter, event.target].filter(function (el) {
    return el && el.hasAttribute && el.hasAttribute("data-confirm");
  })[0];
  if (asker && !window.confirm(asker.getAttribute("data-confirm"))) { event.preventDefault(); }
});
