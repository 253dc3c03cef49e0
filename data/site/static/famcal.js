/* famcal: filters the family events of site/index.json in the browser.
   The filters come from index.json's "declaration" (feeds.filters.site_declaration in
   Python): parameters, the tag field each reads, how it matches, the exact-age rule's
   numbers. The page's controls carry the parameter names, so a view is its own link.
   No framework, nothing loaded from elsewhere; the events are built as text, never HTML. */
(function () {
  "use strict";
  var doc = document.documentElement;
  var root = doc.getAttribute("data-root") || "";
  var lang = doc.lang || "de";
  var T = JSON.parse(document.getElementById("famcal-text").textContent);
  var form = document.getElementById("filters");
  var list = document.getElementById("list");
  var count = document.getElementById("count");
  var PAGE = 50;  // cards at a time: a cheap phone lays out 50 quickly; "Mehr anzeigen" adds more
  var TZ = "Europe/Berlin";
  var ymdFormat = new Intl.DateTimeFormat("en-CA", {timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit"});
  var dayFormat = new Intl.DateTimeFormat(lang, {timeZone: TZ, weekday: "long", day: "numeric", month: "long"});
  var timeFormat = new Intl.DateTimeFormat(lang, {timeZone: TZ, hour: "2-digit", minute: "2-digit", hourCycle: "h23"});

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); });
  }
  function fold(text) {  // feeds.filters.fold_words
    return text.toLowerCase().replace(/ß/g, "ss").normalize("NFKD").replace(/\p{Mn}/gu, "");
  }
  function berlinDate(date) { return ymdFormat.format(date); }
  function addDays(ymd, n) {
    var d = new Date(ymd + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function daySpan(word, today) {  // feeds.filters.day_span (contract.md "Days")
    if (word === "heute") return [today, today];
    if (word === "morgen") { var t = addDays(today, 1); return [t, t]; }
    var weekday = (new Date(today + "T12:00:00Z").getUTCDay() + 6) % 7;  // Monday 0
    var sunday = addDays(today, 6 - weekday);
    if (word === "woche") return [today, sunday];
    return [weekday >= 5 ? today : addDays(sunday, -1), sunday];  // wochenende
  }
  function servesAge(age, ev, decl) {  // core.ages.serves_age
    var lo = ev.age_min, hi = ev.age_max;
    if (lo != null || hi != null) {
      var low = lo == null ? 0 : lo;
      var high = hi != null ? hi : Math.min(Math.max(low, 0) + decl.open_span, decl.oldest);
      return low <= age && age <= Math.max(low, high);
    }
    var groups = ev.age_groups || [];
    if (!groups.length) return true;
    return groups.some(function (g) {
      var b = decl.age_bounds[g];
      return b[0] <= age && age <= b[1];
    });
  }
  function facetAccepts(facet, ev, chosen, decl) {  // feeds.filters.Facet.accepts
    var value = ev[facet.field];
    if (facet.match === "one") return chosen.indexOf(value) >= 0;
    if (facet.match === "any") return (value || []).some(function (v) { return chosen.indexOf(v) >= 0; });
    if (facet.match === "flag") return value === true;
    var groups = ev.age_groups || [];
    return chosen.some(function (w) {
      return /^\d+$/.test(w) ? servesAge(parseInt(w, 10), ev, decl) : groups.indexOf(w) >= 0;
    });
  }
  function values(params, name) {
    var out = [];
    params.getAll(name).forEach(function (raw) {
      raw.split(",").forEach(function (v) { v = v.trim(); if (v) out.push(v); });
    });
    return out;
  }
  function readQuery(params, decl) {  // feeds.filters.parse_query; unknown values are dropped
    var q = {facets: [], days: [], words: [], since: null, until: null};
    decl.facets.forEach(function (facet) {
      var chosen = values(params, facet.param).filter(function (v) {
        if (facet.match === "flag") return ["1", "true", "ja"].indexOf(v.toLowerCase()) >= 0;
        if (facet.match === "age" && /^\d+$/.test(v)) return parseInt(v, 10) <= decl.oldest;
        return facet.values.indexOf(v) >= 0;
      });
      if (facet.match === "flag") chosen = chosen.length ? ["1"] : [];
      if (chosen.length) q.facets.push([facet, chosen]);
    });
    q.days = values(params, "zeit").filter(function (w) { return decl.days.indexOf(w) >= 0; });
    var iso = /^\d{4}-\d{2}-\d{2}$/;
    if (iso.test(params.get("von") || "")) q.since = params.get("von");
    if (iso.test(params.get("bis") || "")) q.until = params.get("bis");
    params.getAll("q").forEach(function (raw) {
      fold(raw).split(/\s+/).forEach(function (w) { if (w && q.words.indexOf(w) < 0) q.words.push(w); });
    });
    return q;
  }
  function accepts(q, ev, decl, now, today) {  // feeds.filters.Query.accepts
    for (var i = 0; i < q.facets.length; i++) {
      if (!facetAccepts(q.facets[i][0], ev, q.facets[i][1], decl)) return false;
    }
    if (q.days.length || q.since || q.until) {
      var spans = q.days.map(function (w) { return daySpan(w, today); });
      if (q.since || q.until) spans.push([q.since || "0000-01-01", q.until || "9999-12-31"]);
      if (!spans.some(function (s) { return ev.d0 <= s[1] && ev.d1 >= s[0]; })) return false;
    }
    for (var j = 0; j < q.words.length; j++) {
      if (ev.w.indexOf(q.words[j]) < 0) return false;  // ev.w from site/words.json
    }
    return ev.z > now / 1000;  // the site shows what has not ended by the visitor's clock
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function optionLabel(name, value) {
    var option = form && form.querySelector('select[name="' + name + '"] option[value="' + value + '"]');
    return option ? option.textContent : "";
  }
  function timeText(ev) {
    if (ev.a) return T["ganztägig"];
    var start = new Date(ev.s), text = timeFormat.format(start);
    if (ev.e) {
      var end = new Date(ev.e);
      if (end > start && berlinDate(end) === berlinDate(start)) text += "–" + timeFormat.format(end);
    }
    return text;
  }
  function card(ev) {
    var li = el("li", ev.x === "cancelled" ? "card x" : "card");
    li.setAttribute("data-uid", ev.u);
    var a = el("a");
    a.href = root + "termine/" + ev.k + ".html";
    a.appendChild(el("span", "tm", timeText(ev)));
    a.appendChild(document.createTextNode(" "));
    a.appendChild(el("span", "ti", ev.t));
    li.appendChild(a);
    var district = ev.district ? optionLabel("bezirk", ev.district) : "";
    var place = [ev.p, district].filter(Boolean).join(" · ");
    if (place) li.appendChild(el("span", "pl", place));
    var tags = el("span", "tags");
    if (ev.x) tags.appendChild(el("span", "tag cx", T[ev.x === "cancelled" ? "abgesagt" : "verschoben"]));
    if (ev.b) tags.appendChild(el("span", "tag cx", T["ausgebucht"]));
    var lo = ev.age_min, hi = ev.age_max, ages = "";
    if (lo != null && hi != null) ages = fmt(T["%(lo)s bis %(hi)s Jahre"], {lo: lo, hi: hi});
    else if (lo != null) ages = fmt(T["ab %(lo)s Jahren"], {lo: lo});
    else if (hi != null) ages = fmt(T["bis %(hi)s Jahre"], {hi: hi});
    if (ages) tags.appendChild(el("span", "tag", ages));
    if (ev.free) tags.appendChild(el("span", "tag free", T["kostenlos"]));
    if (ev.aktivpass) tags.appendChild(el("span", "tag ap", T["AktivPass"]));
    li.appendChild(tags);
    // One tap into one's own calendar: the event's one-event file (termine/<key>.ics).
    var add = el("a", "add", T["+ Kalender"]);
    add.href = root + "termine/" + ev.k + ".ics";
    add.setAttribute("download", "");
    add.appendChild(el("span", "vh", ": " + ev.t));
    li.appendChild(add);
    return li;
  }
  function show(events, today, limit, total) {  // total: null when not known yet
    list.textContent = "";
    var shown = events.slice(0, limit), section = null, ul = null, current = null;
    shown.forEach(function (ev) {
      var day = ev.d0 < today ? today : ev.d0;  // a running multi-day event: under today
      if (day !== current) {
        current = day;
        section = el("section", "day");
        section.setAttribute("data-day", day);
        section.appendChild(el("h3", null, dayFormat.format(new Date(day + "T12:00:00Z"))));
        ul = el("ul", "cards");
        section.appendChild(ul);
        list.appendChild(section);
      }
      ul.appendChild(card(ev));
    });
    if (!events.length) list.appendChild(el("p", "none", T["Keine passenden Termine."]));
    var n = total === null ? events.length : total;
    count.textContent = total === null ? fmt(T["mindestens %(n)s Termine"], {n: n})
      : n === 1 ? T["1 Termin"] : fmt(T["%(n)s Termine"], {n: n});
    return n > limit || total === null;
  }

  function setControls(params) {
    Array.prototype.forEach.call(form.elements, function (c) {
      if (!c.name) return;
      var first = values(params, c.name)[0] || "";
      if (c.type === "checkbox") c.checked = first !== "" && ["0", "false", "nein"].indexOf(first) < 0;
      else if (c.tagName === "SELECT") c.value = Array.prototype.some.call(c.options, function (o) { return o.value === first; }) ? first : "";
      else c.value = params.getAll(c.name).join(" ");
    });
  }
  function formParams() {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (c) {
      if (!c.name || (c.type === "checkbox" && !c.checked)) return;
      var v = c.value.trim();
      if (v) params.append(c.name, v);
    });
    return params;
  }

  // "Kalender abonnieren": the feed a family wants, as absolute links from this page's address.
  // The bar above the list ("Diese Auswahl abonnieren") offers the same feed: it follows the
  // filter's district and age (an exact age: the group that holds it).
  function subscription() {
    var bezirk = document.getElementById("abo-bezirk"), alter = document.getElementById("abo-alter");
    var d = bezirk.value, g = alter.value;
    var path = d && g ? "bezirk/" + d + "/" + g : d ? "bezirk/" + d : g ? "alter/" + g : "familie";
    var base = document.querySelector(".abo-links").getAttribute("data-base");
    var https = base ? base.replace(/\/$/, "") + "/" + path + ".ics" : new URL(root + path + ".ics", location.href).href;
    var webcal = "webcal://" + https.replace(/^https?:\/\//, "");
    var google = "https://calendar.google.com/calendar/render?cid=" + encodeURIComponent(webcal);
    document.getElementById("abo-webcal").href = webcal;
    document.getElementById("abo-google").href = google;
    document.getElementById("abo-https").href = https;
    document.getElementById("abo-url").value = https;
    document.getElementById("now-webcal").href = webcal;
    document.getElementById("now-google").href = google;
    var what = [d && bezirk.selectedOptions[0].textContent, g && alter.selectedOptions[0].textContent];
    document.getElementById("now-what").textContent = what.filter(Boolean).join(" · ") || T["alle Familientermine"];
  }
  ["abo-bezirk", "abo-alter"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", subscription);
  });

  function followFilter(params) {  // the builder starts from the filter's district and age
    var d = values(params, "bezirk")[0], a = values(params, "alter")[0];
    var bezirk = document.getElementById("abo-bezirk"), alter = document.getElementById("abo-alter");
    bezirk.value = d && Array.prototype.some.call(bezirk.options, function (o) { return o.value === d; }) ? d : "";
    alter.value = "";
    Array.prototype.forEach.call(alter.options, function (o) {
      var b = o.value.split("-");  // a group slug names its bounds: "3-5"
      if (a && (o.value === a || (/^\d+$/.test(a) && b.length === 2 && +b[0] <= +a && +a <= +b[1]))) alter.value = o.value;
    });
    subscription();
  }
  var params = new URLSearchParams(location.search);
  setControls(params);
  followFilter(params);
  var submit = form.querySelector("button[type=submit]");
  if (submit) submit.hidden = true;  // the list follows every control as it changes

  fetch(root + "site/index.json").then(function (r) { return r.json(); }).then(function (index) {
    var decl = index.declaration, events = index.events, words = null;
    // The later events come by month (site/index-YYYY-MM.json), in order: "until" is the last
    // day whose events are all here. Loads run one after another, each at most once.
    var months = index.months || [], loaded = 0, until = index.until, queue = Promise.resolve();
    function lastDay(month) {
      var d = new Date(month + "-01T12:00:00Z");
      d.setUTCMonth(d.getUTCMonth() + 1, 0);
      return d.toISOString().slice(0, 10);
    }
    function loadMonths(upto) {  // the months before index upto, fetched side by side
      queue = queue.then(function () {
        var wanted = months.slice(loaded, upto);
        if (!wanted.length) return null;
        return Promise.all(wanted.map(function (m) {
          return fetch(root + "site/index-" + m.m + ".json").then(function (r) { return r.json(); });
        })).then(function (parts) {
          parts.forEach(function (part) {
            part.events.forEach(function (ev, i) { ev.w = part.words[i]; events.push(ev); });
          });
          loaded += wanted.length;
          until = lastDay(wanted[wanted.length - 1].m);
        });
      });
      return queue;
    }
    function monthsThrough(day) {  // how many months hold events starting by that day
      var n = loaded;
      while (n < months.length && months[n].m <= day.slice(0, 7)) n++;
      return n;
    }
    function lastQueryDay(q, today) {  // the last day the query can show, null: no end
      var ends = q.days.map(function (w) { return daySpan(w, today)[1]; });
      if (q.since || q.until) ends.push(q.until || null);
      if (!ends.length || ends.indexOf(null) >= 0) return null;
      return ends.sort()[ends.length - 1];
    }
    var shownQuery = null, limit = PAGE, turn = 0;
    function apply(params, more) {
      var now = Date.now(), today = berlinDate(new Date(now)), q = readQuery(params, decl);
      var mine = ++turn;
      limit = more ? limit + PAGE : PAGE;
      list.setAttribute("aria-busy", "true");
      var steps = loadMonths(monthsThrough(today));  // a late visitor: today's events first
      if (q.words.length && !words) {  // a search: the first load's words, once
        words = fetch(root + "site/words.json").then(function (r) { return r.json(); }).then(function (w) {
          w.words.forEach(function (text, i) { index.events[i].w = text; });
        });
      }
      if (q.words.length) steps = Promise.all([steps, words]);
      var end = lastQueryDay(q, today);
      if (end) steps = steps.then(function () { return loadMonths(monthsThrough(end)); });
      function enough() {  // no end: months one by one until the page is full
        var hits = found(q, now, today);
        if (hits.length > limit || loaded === months.length) return hits;
        return loadMonths(loaded + 1).then(enough);
      }
      steps.then(function () { return end ? found(q, now, today) : enough(); }).then(function (hits) {
        if (mine !== turn) return;  // a later change has its own turn
        var total = loaded === months.length || (end !== null && end <= until) ? hits.length : null;
        var plain = !q.facets.length && !q.words.length && !q.days.length && !q.since && !q.until;
        if (plain && total === null) {  // every later event is shown: the months' counts add up
          total = months.slice(loaded).reduce(function (sum, m) { return sum + m.n; }, hits.length);
        }
        if (show(hits, today, limit, total)) {
          var button = el("button", "more", T["Mehr anzeigen"]);
          button.type = "button";
          button.addEventListener("click", function () { apply(shownQuery, true); });
          list.appendChild(button);
        }
        shownQuery = params;
        list.setAttribute("aria-busy", "false");
        doc.setAttribute("data-ready", "1");
      });
    }
    function found(q, now, today) {
      var hits = events.filter(function (ev) { return accepts(q, ev, decl, now, today); });
      hits.sort(function (a, b) {
        var da = a.d0 < today ? today : a.d0, db = b.d0 < today ? today : b.d0;
        return da < db ? -1 : da > db ? 1 : 0;  // stable: feed order within a day
      });
      return hits;
    }
    function update() {
      var p = formParams(), text = p.toString();
      history.replaceState(null, "", text ? "?" + text : location.pathname);
      followFilter(p);
      apply(p, false);
    }
    form.addEventListener("change", update);
    form.addEventListener("submit", function (e) { e.preventDefault(); update(); });
    var typing = null;
    form.elements.q.addEventListener("input", function () { clearTimeout(typing); typing = setTimeout(update, 250); });
    apply(params, false);
  });
})();
