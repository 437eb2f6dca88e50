// Letters per recipient: a bar chart from the page's JSON, and click-to-sort tables.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("letters-chart-data");
    var canvas = document.getElementById("chart-targets");
    if (node && canvas && window.Chart) {
      var data = JSON.parse(node.textContent);
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            // The series' names come from the page, in its language.
            { label: (data.words || {}).letters || "Letters", data: data.letters },
            { label: (data.words || {}).delivered || "Delivered", data: data.delivered },
          ],
        },
        options: { indexAxis: "y", animation: false },
      });
    }
    document.querySelectorAll("table.sortable th").forEach(function (th, index) {
      th.style.cursor = "pointer";
      th.addEventListener("click", function () {
        var tbody = th.closest("table").querySelector("tbody");
        var numeric = th.dataset.sort === "number";
        var asc = th.dataset.dir !== "asc";
        th.dataset.dir = asc ? "asc" : "desc";
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (a, b) {
          var x = a.cells[index].textContent.trim(), y = b.cells[index].textContent.trim();
          var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (row) { tbody.appendChild(row); });
      });
    });
  });
})();
