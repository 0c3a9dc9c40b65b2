/* dmconf catalogue: search, filters and sorting over window.DMCONF_INDEX (search-index.js).
 *
 * Fast with tens of thousands of datasets: each dataset's lowercase search text is computed
 * once at load; a change filters the (pre-sorted) rows in one pass and renders only the first
 * PAGE matches, the next ones when "Show more" scrolls into view or is pressed. Rows are built
 * with textContent, never innerHTML: definitions are input. The state lives in the URL's
 * fragment, so a search can be bookmarked and Back returns to it.
 */
(function () {
  "use strict";

  var PAGE = 30;
  var SHOWN_DESCRIPTION = 240;
  var index = window.DMCONF_INDEX;
  var rows = index.datasets;
  var form = document.getElementById("controls");
  var query = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("status");
  var more = document.getElementById("more");
  var controls = ["domain", "task", "license", "size", "sort", "local"];
  var orders = {};
  var matches = [];
  var shown = 0;
  var api = { last: null, rows: rows.length, page: PAGE };
  window.dmconfSite = api;

  function bucketOf(size) {
    for (var b = 0; b < index.sizes.length; b++) {
      var bucket = index.sizes[b];
      if (bucket[2] === null) {
        if (size === null && bucket[3] === null) return bucket[0];
        continue;
      }
      if (size !== null && size >= bucket[2] && (bucket[3] === null || size < bucket[3])) {
        return bucket[0];
      }
    }
    return "";
  }

  for (var i = 0; i < rows.length; i++) {
    var r = rows[i];
    r.tl = r.t.map(function (t) { return String(t).toLowerCase(); });
    r.kl = r.k.map(function (k) { return String(k).toLowerCase(); });
    r.text = [r.i, r.n, r.d].concat(r.tl, r.kl).join(" ").toLowerCase();
    r.bucket = bucketOf(r.s === undefined ? null : r.s);
  }

  function compareBy(key, descending) {
    return function (a, b) {
      var x = a[key], y = b[key];
      if (x === y) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
      if (x === null || x === undefined) return 1;  // unknown sizes last, either way
      if (y === null || y === undefined) return -1;
      if (typeof x === "string") { x = x.toLowerCase(); y = y.toLowerCase(); }
      var order = x < y ? -1 : x > y ? 1 : (a.i < b.i ? -1 : 1);
      return descending ? -order : order;
    };
  }

  function ordered(sort) {
    if (!orders[sort]) {
      var copy = rows.slice();
      if (sort === "name") copy.sort(compareBy("n", false));
      else if (sort === "size") copy.sort(compareBy("s", false));
      else if (sort === "-size") copy.sort(compareBy("s", true));
      else if (sort === "-local") copy.sort(compareBy("u", true));
      else copy.sort(compareBy("i", false));
      orders[sort] = copy;
    }
    return orders[sort];
  }

  function value(name) {
    var element = form.elements[name];
    if (!element) return "";
    return element.type === "checkbox" ? (element.checked ? "1" : "") : element.value;
  }

  function update() {
    var started = performance.now();
    var words = [], tags = [], tasks = [];
    query.value.toLowerCase().split(/\s+/).forEach(function (word) {
      if (!word) return;
      if (word.indexOf("tag:") === 0) tags.push(word.slice(4));
      else if (word.indexOf("task:") === 0) tasks.push(word.slice(5));
      else words.push(word);
    });
    var domain = value("domain"), task = value("task"), license = value("license");
    var size = value("size"), local = value("local");
    var source = ordered(value("sort") || "id");
    matches = [];
    for (var n = 0; n < source.length; n++) {
      var row = source[n], ok = true, w;
      if (domain && row.g !== domain) continue;
      if (task && row.k.indexOf(task) < 0) continue;
      if (license && (license === "~none" ? row.l !== "" : row.l !== license)) continue;
      if (size && row.bucket !== size) continue;
      if (local && (row.u === null || row.u === undefined)) continue;
      for (w = 0; ok && w < tags.length; w++) ok = row.tl.indexOf(tags[w]) >= 0;
      for (w = 0; ok && w < tasks.length; w++) ok = row.kl.indexOf(tasks[w]) >= 0;
      for (w = 0; ok && w < words.length; w++) ok = row.text.indexOf(words[w]) >= 0;
      if (ok) matches.push(row);
    }
    list.textContent = "";
    shown = 0;
    showMore();
    api.last = { ms: performance.now() - started, count: matches.length, query: query.value };
    document.dispatchEvent(new CustomEvent("dmconf:results", { detail: api.last }));
    remember();
  }

  function showMore() {
    var fragment = document.createDocumentFragment();
    var end = Math.min(matches.length, shown + PAGE);
    for (; shown < end; shown++) fragment.appendChild(item(matches[shown]));
    list.appendChild(fragment);
    more.hidden = shown >= matches.length;
    var total = rows.length.toLocaleString("en");
    if (!matches.length) status.textContent = "No dataset matches (" + total + " in all).";
    else status.textContent = matches.length.toLocaleString("en") + " of " + total +
      " datasets match" + (shown < matches.length ? "; the first " + shown.toLocaleString("en") +
      " are listed." : ".");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function humanSize(size) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    for (var u = 0; u < units.length; u++) {
      if (size < 1024 || u === units.length - 1) {
        return u === 0 ? size + " B" : size.toFixed(1) + " " + units[u];
      }
      size /= 1024;
    }
    return "";
  }

  function item(row) {
    var li = element("li", "result");
    var heading = element("h3");
    var link = element("a", "", row.n);
    link.href = row.p;
    heading.appendChild(link);
    li.appendChild(heading);
    var id = element("p", "rid");
    id.appendChild(element("code", "", row.i));
    li.appendChild(id);
    if (row.d) {
      var text = row.d.length > SHOWN_DESCRIPTION ? row.d.slice(0, SHOWN_DESCRIPTION - 1) + "\u2026" : row.d;
      li.appendChild(element("p", "desc", text));
    }
    var meta = element("ul", "meta");
    meta.setAttribute("aria-label", "About " + row.i);
    meta.appendChild(element("li", "badge", row.g));
    meta.appendChild(element("li", "badge", row.l || "licence not given"));
    meta.appendChild(element("li", "badge", row.s === null ? "size unknown" : humanSize(row.s)));
    row.k.forEach(function (task) { meta.appendChild(element("li", "badge", task)); });
    if (row.u !== null && row.u !== undefined) {
      meta.appendChild(element("li", "badge badge-local", "prepared here, " + humanSize(row.u)));
    }
    li.appendChild(meta);
    return li;
  }

  function remember() {
    var params = new URLSearchParams();
    if (query.value) params.set("q", query.value);
    controls.forEach(function (name) {
      var v = value(name);
      if (v && !(name === "sort" && v === "id")) params.set(name, v);
    });
    var hash = params.toString();
    if (("#" + hash) !== location.hash && !(hash === "" && location.hash === "")) {
      history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
    }
  }

  function restore() {
    var params = new URLSearchParams(location.hash.slice(1));
    query.value = params.get("q") || "";
    controls.forEach(function (name) {
      var element = form.elements[name];
      if (!element) return;
      var v = params.get(name) || "";
      if (element.type === "checkbox") element.checked = v === "1";
      else if (element.tagName === "SELECT") {
        element.value = v;
        if (element.selectedIndex < 0) element.selectedIndex = 0;  // a stale link: ignore it
      }
    });
  }

  query.addEventListener("input", update);
  query.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && query.value) { query.value = ""; update(); }
  });
  form.addEventListener("change", function (event) { if (event.target !== query) update(); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(update, 0); });
  more.addEventListener("click", showMore);
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" ||
      target.tagName === "TEXTAREA" || target.isContentEditable);
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      query.focus();
    }
  });
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      if (entries[0].isIntersecting && !more.hidden) showMore();
    }, { rootMargin: "400px" }).observe(more);
  }
  window.addEventListener("hashchange", function () { restore(); update(); });
  restore();
  // On a phone, unused filters start folded so that the results show under the search box.
  var filters = document.getElementById("filters");
  var chosen = controls.some(function (name) { return value(name) && value(name) !== "id"; });
  if (filters && !chosen && window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) {
    filters.open = false;
  }
  update();
})();
