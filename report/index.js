/* imgstat serve's index: draws the catalog's entries from the JSON in #imgstat-data.  Every
 * name goes into the page with textContent (never as markup), and links are made of the
 * image ID's hex digits only, so a name can neither add an element nor run a script; the
 * page's policy (index.html) lets nothing else run either. */
(function () {
  "use strict";
  var DATA_VERSION = 1;
  /* The order of "Scan status" ascending: what needs a look first. */
  var STATUS_ORDER = ["failed", "scanning", "waiting_for_scan", "success"];
  /* @COMMON@ */

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function when(ms) {
    var d = new Date(ms);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  var D = pageData(DATA_VERSION);
  if (!D) return;

  /* ---- the cells --------------------------------------------------------------------- */

  function hexOf(id) {
    var m = /^sha256:([0-9a-f]{64})$/.exec(id || "");
    return m ? m[1] : null;
  }

  function baseName(p) {
    var s = String(p || "").replace(/\/+$/, "");
    return s.slice(s.lastIndexOf("/") + 1) || s;
  }

  /* The name shown: the ref's repository, else the ref (a bare tag), else the input's name. */
  function shownName(e) {
    return e.name || e.ref || null;
  }

  function nameCell(e) {
    var td = el("td", "name"), hex = hexOf(e.image_id), name = shownName(e);
    var label = name !== null ? el("span", null, name) : el("span", "anon", baseName(e.input));
    if (hex) {
      var a = el("a");
      a.href = "images/" + hex;
      a.appendChild(label);
      td.appendChild(a);
    } else {
      td.appendChild(label);
    }
    var where = el("span", "input", e.input);
    td.appendChild(where);
    td.title = (e.ref ? e.ref + "\n" : "") + e.input + (num(e.index) ? " (image " +
      (num(e.index) + 1) + ")" : "") + (e.platform ? "\n" + e.platform : "") +
      (e.format ? ", " + e.format : "");
    return td;
  }

  function bytesCell(v, key) {
    if (v === null || v === undefined) return el("td", "num none", "\u2014");
    var td = el("td", "num", human(v));
    td.title = exact(v) + " bytes";
    td.dataset.value = String(v);
    td.dataset.key = key;
    return td;
  }

  function countCell(v, key) {
    if (v === null || v === undefined) return el("td", "num none", "\u2014");
    var td = el("td", "num", exact(v));
    td.dataset.value = String(v);
    td.dataset.key = key;
    return td;
  }

  function statusCell(e) {
    var td = el("td", "state"), s = el("span", "status " + e.status, e.status.replace(/_/g, " "));
    td.dataset.value = e.status;
    td.appendChild(s);
    if (e.failed_desc) {
      td.appendChild(el("span", "why", e.failed_desc));
      td.title = e.failed_desc;
    }
    return td;
  }

  function row(e) {
    var tr = el("tr");
    tr.appendChild(nameCell(e));
    tr.appendChild(el("td", e.tag ? "tag" : "tag none", e.tag || "\u2014"));
    var hex = hexOf(e.image_id), id = el("td", hex ? "id" : "id none", hex ? hex.slice(0, 12) :
      "\u2014");
    if (hex) id.title = e.image_id;
    id.dataset.value = e.image_id || "";
    tr.appendChild(id);
    tr.appendChild(countCell(e.files, "files"));
    tr.appendChild(bytesCell(e.bytes, "bytes"));
    tr.appendChild(bytesCell(e.wasted, "wasted"));
    tr.appendChild(statusCell(e));
    var t = el("td", e.scanned_ms ? "when" : "when none",
      e.scanned_ms ? when(num(e.scanned_ms)) : "\u2014");
    if (e.scanned_ms) {
      t.title = new Date(num(e.scanned_ms)).toISOString();
      t.dataset.value = String(e.scanned_ms);
    }
    tr.appendChild(t);
    return tr;
  }

  /* ---- sorting ----------------------------------------------------------------------- */

  /* Each column: the key it sorts by (null sorts last either way) and its first direction
   * (figures largest first, words A to Z). */
  var COLUMNS = {
    name: {first: 1, key: function (e) { var n = shownName(e); return n !== null ? n : baseName(e.input); }},
    tag: {first: 1, key: function (e) { return e.tag || null; }},
    id: {first: 1, key: function (e) { return e.image_id || null; }},
    files: {first: -1, key: function (e) { return e.files === null ? null : num(e.files); }},
    size: {first: -1, key: function (e) { return e.bytes === null ? null : num(e.bytes); }},
    wasted: {first: -1, key: function (e) { return e.wasted === null ? null : num(e.wasted); }},
    status: {first: 1, key: function (e) {
      var r = STATUS_ORDER.indexOf(e.status);
      return r < 0 ? STATUS_ORDER.length : r;
    }},
    scanned: {first: -1, key: function (e) { return e.scanned_ms ? num(e.scanned_ms) : null; }}
  };

  var rows = [], sorted = {col: null, dir: 0};

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return a < b ? -1 : 1;
  }

  function sortBy(col) {
    var c = COLUMNS[col];
    var dir = sorted.col === col ? -sorted.dir : c.first;
    sorted = {col: col, dir: dir};
    rows.sort(function (x, y) {
      var kx = c.key(x.e), ky = c.key(y.e);
      var r = kx === null || ky === null ? compare(kx, ky) : dir * compare(kx, ky);
      return r || x.i - y.i; /* stable: ties keep the catalog's order */
    });
    var body = $("images").tBodies[0], frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r.tr); });
    body.appendChild(frag);
    document.querySelectorAll("#images th[data-col]").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.col !== col ? "none" :
        dir > 0 ? "ascending" : "descending");
    });
  }

  function wireHeaders() {
    document.querySelectorAll("#images th[data-col]").forEach(function (th) {
      th.setAttribute("aria-sort", "none");
      th.querySelector("button").addEventListener("click", function () {
        sortBy(th.dataset.col);
      });
    });
  }

  /* ---- the page ---------------------------------------------------------------------- */

  function summary() {
    var by = {}, bytes = 0, files = 0;
    D.entries.forEach(function (e) {
      by[e.status] = (by[e.status] || 0) + 1;
      if (e.bytes !== null) bytes += num(e.bytes);
      if (e.files !== null) files += num(e.files);
    });
    var parts = [];
    STATUS_ORDER.slice().reverse().forEach(function (s) {
      if (by[s]) parts.push(exact(by[s]) + " " + s.replace(/_/g, " "));
    });
    var n = D.entries.length;
    $("summary").textContent = exact(n) + (n === 1 ? " entry" : " entries") +
      (parts.length ? " (" + parts.join(", ") + ")" : "") + "; the scanned images hold " +
      exact(files) + " files, " + human(bytes) + ".";
    if (num(D.total) > n) {
      var more = $("more");
      more.hidden = false;
      more.textContent = "The first " + exact(n) + " of the catalog's " + exact(D.total) +
        " entries are listed; local-repositories pages through all of them.";
    }
    $("empty").hidden = n > 0;
  }

  try {
    var body = $("images").tBodies[0];
    D.entries.forEach(function (e, i) {
      var tr = row(e);
      rows.push({e: e, i: i, tr: tr});
      body.appendChild(tr);
    });
    wireHeaders();
    summary();
    $("footer").textContent = "Served by " + D.generator + ".  Each image's page is what " +
      "imgstat report writes for it; figures are exact, sizes logical bytes, files once per " +
      "inode.";
    document.documentElement.dataset.ready = "1";
  } catch (e) {
    fail(e && e.message ? e.message : String(e));
    throw e;
  }
})();
