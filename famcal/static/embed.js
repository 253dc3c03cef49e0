// famcal embed: the next events of a district or venue as a compact list on a partner site.
// <div data-famcal="bezirk=linden-limmer" data-famcal-limit="5"></div>
// <script src="https://HOST/embed.js" defer></script>
// Reads /feed.json (same host as this script) with the div's filters; text only (no HTML
// from the feed is inserted), so a partner page cannot be broken by an event's text.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(".", script ? script.src : location.href);
  var when = new Intl.DateTimeFormat("de-DE", {
    weekday: "short", day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit",
    timeZone: "Europe/Berlin"
  });
  function el(tag, text) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    return node;
  }
  function show(box, items, limit) {
    var list = el("ul");
    list.className = "famcal-list";
    var now = Date.now();
    items.filter(function (i) {
      var e = i._event;
      return e.status !== "cancelled" && Date.parse(e.end || e.start) >= now;
    }).slice(0, limit).forEach(function (i) {
      var e = i._event, row = el("li"), link = el("a", i.title);
      link.href = i.url || new URL("alle.ics", base).href;
      link.target = "_blank";
      link.rel = "noopener";
      row.appendChild(el("time", e.all_day ? e.start : when.format(new Date(e.start))));
      row.appendChild(document.createTextNode(" "));
      row.appendChild(link);
      if (e.location && e.location.name) row.appendChild(el("small", " – " + e.location.name));
      list.appendChild(row);
    });
    box.replaceChildren(list.childNodes.length ? list : el("p", "Zurzeit keine Termine."));
  }
  document.querySelectorAll("[data-famcal]").forEach(function (box) {
    var limit = parseInt(box.getAttribute("data-famcal-limit") || "5", 10);
    fetch(new URL("feed.json?" + box.getAttribute("data-famcal"), base))
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (feed) { show(box, feed.items, limit); })
      .catch(function () { box.textContent = "Termine gerade nicht erreichbar."; });
  });
})();
