// Live dashboard: polls the page's JSON endpoint and redraws numbers, charts and tables.
// No inline script (CSP); user-supplied text is only ever set with textContent.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  var dataNode = document.getElementById("dashboard-data");
  if (!root || !dataNode) return;
  var url = root.getAttribute("data-url");
  var pollMs = Math.max(1000, parseInt(root.getAttribute("data-poll-ms"), 10) || 3000);
  var charts = {};
  var lastConfirmed = null;
  var brand = "#0b5cab";
  // The words this script writes, in the page's language (the template puts them there).
  var wordsNode = document.getElementById("dashboard-words");
  var words = wordsNode ? JSON.parse(wordsNode.textContent) : {};

  // Figures the page's language's way (its <html lang>: "en" or "cy"), as the server wrote them.
  var LOCALE = (document.documentElement.lang || "en") + "-GB";
  function fmt(n) {
    try { return Number(n || 0).toLocaleString(LOCALE); } catch (e) { return String(n || 0); }
  }
  function setText(id, value) {
    var el = document.getElementById(id);
    if (el && el.textContent !== String(value)) el.textContent = value;
    return el;
  }

  function pointRadius(values) { return values.length < 8 ? 4 : 0; }

  function chart(id, type, labels, values, horizontal) {
    if (typeof window.Chart === "undefined") return;
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var existing = charts[id];
    if (existing) {
      existing.data.labels = labels;
      existing.data.datasets[0].data = values;
      existing.data.datasets[0].pointRadius = pointRadius(values);
      existing.update("none");
      return;
    }
    charts[id] = new window.Chart(canvas, {
      type: type,
      // A line of one point draws nothing: show the points until there are a few.
      data: { labels: labels, datasets: [{ data: values, backgroundColor: brand, borderColor: brand, fill: false, pointRadius: pointRadius(values), tension: 0.2 }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: horizontal ? 6 : 8 }, beginAtZero: horizontal },
          y: { beginAtZero: !horizontal, ticks: { precision: 0, autoSkip: !horizontal } }
        }
      }
    });
  }

  function table(id, rows, key) {
    var tbody = document.querySelector("#" + id + " tbody");
    if (!tbody) return;
    var fresh = document.createElement("tbody");
    if (!rows.length) {
      var tr0 = fresh.insertRow(), td0 = tr0.insertCell();
      td0.colSpan = 2; td0.textContent = words.nothing;
    }
    rows.forEach(function (row) {
      var tr = fresh.insertRow();
      tr.insertCell().textContent = row[key] || words.none;
      var n = tr.insertCell(); n.className = "num"; n.textContent = fmt(row.n);
    });
    tbody.parentNode.replaceChild(fresh, tbody);
  }

  function latest(rows) {
    var list = document.getElementById("latest");
    if (!list) return;
    var fresh = document.createElement("ol");
    fresh.className = list.className; fresh.id = list.id;
    if (!rows.length) {
      var empty = document.createElement("li"); empty.className = "empty"; empty.textContent = words.nobody;
      fresh.appendChild(empty);
    }
    rows.forEach(function (s) {
      var li = document.createElement("li");
      var name = document.createElement("strong"); name.textContent = s.name;
      var place = document.createElement("span"); place.className = "place"; place.textContent = s.place;
      var time = document.createElement("time"); time.setAttribute("datetime", s.confirmed_at);
      time.textContent = s.confirmed_at.slice(0, 16).replace("T", " ");
      li.appendChild(name); li.appendChild(document.createTextNode(" "));
      li.appendChild(place); li.appendChild(document.createTextNode(" "));
      li.appendChild(time);
      if (s.comment) { var q = document.createElement("q"); q.textContent = s.comment; li.appendChild(q); }
      fresh.appendChild(li);
    });
    list.parentNode.replaceChild(fresh, list);
  }

  // Events: update the figures of each row in place (the rows are drawn by the server).
  function eventRows(rows) {
    (rows || []).forEach(function (e) {
      var row = document.querySelector('#table-events tr[data-action="' + Number(e.action_id) + '"]');
      if (!row) return;
      var values = {
        going: fmt(e.going) + (e.capacity ? " / " + fmt(e.capacity) : ""),
        places_left: e.places_left === null ? "\u2014" : fmt(e.places_left),
        waitlisted: fmt(e.waitlisted),
        cancelled: fmt(e.cancelled),
        checked_in: fmt(e.checked_in),
        attendance_rate: e.attendance_rate === null ? "\u2014" : Math.round(e.attendance_rate * 100) + "%"
      };
      Object.keys(values).forEach(function (key) {
        var cell = row.querySelector('[data-key="' + key + '"]');
        if (cell) cell.textContent = values[key];
      });
    });
  }

  function render(d) {
    var confirmed = setText("confirmed-count", fmt(d.confirmed));
    if (lastConfirmed !== null && d.confirmed !== lastConfirmed && confirmed) {
      confirmed.classList.remove("bump"); void confirmed.offsetWidth; confirmed.classList.add("bump");
    }
    lastConfirmed = d.confirmed;
    setText("pending-count", fmt(d.pending));
    setText("paper-count", fmt(d.paper || 0));
    setText("confirmation-rate", d.confirmation_rate === null ? "—" : Math.round(d.confirmation_rate * 100) + "%");
    setText("per-day", fmt(Math.round(d.per_day)));
    setText("goal", fmt(d.goal));
    setText("goal-percent", String(d.percent));
    var bar = document.getElementById("goal-progress");
    if (bar) { bar.value = d.percent; bar.textContent = d.percent + "%"; }
    setText("projection", d.goal_reached ? words.reached
      : d.projected_date ? words.at_rate.replace("{date}", d.projected_date)
      : (d.projection_note || words.no_recent));
    var updated = document.getElementById("updated-at");
    if (updated) { updated.setAttribute("datetime", d.updated_at); updated.textContent = d.updated_at.slice(11, 19) + " UTC"; }

    chart("chart-hourly", "bar",
      d.hourly.map(function (h) { return h.t.slice(5, 13).replace("T", " ") + "h"; }),
      d.hourly.map(function (h) { return h.n; }));
    chart("chart-daily", "line", d.daily.map(function (x) { return x.d; }), d.daily.map(function (x) { return x.n; }));
    chart("chart-sources", "bar", d.sources.map(function (x) { return x.source || words.none; }), d.sources.map(function (x) { return x.n; }), true);
    chart("chart-countries", "bar", d.countries.map(function (x) { return x.country; }), d.countries.map(function (x) { return x.n; }), true);
    var areas = d.uk_areas.slice(0, 15);  // the table below lists more
    chart("chart-areas", "bar", areas.map(function (x) { return x.area; }), areas.map(function (x) { return x.n; }), true);
    table("table-sources", d.sources, "source");
    table("table-referrers", d.referrers, "referrer");
    table("table-countries", d.countries, "country");
    table("table-areas", d.uk_areas, "area");
    if (d.pledges && d.pledges.length) {
      chart("chart-pledges", "bar", d.pledges.map(function (x) { return x.label; }), d.pledges.map(function (x) { return x.n; }), true);
      table("table-pledges", d.pledges, "label");
    }
    latest(d.latest);
    eventRows(d.events);
  }

  function setLive(ok) {
    var status = document.getElementById("live-status");
    if (status) status.classList.toggle("stale", !ok);
  }

  function poll() {
    if (document.hidden) { window.setTimeout(poll, pollMs); return; }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (d) { render(d); setLive(true); })
      .catch(function () { setLive(false); })
      .then(function () { window.setTimeout(poll, pollMs); });
  }

  render(JSON.parse(dataNode.textContent));
  window.setTimeout(poll, pollMs);
})();
