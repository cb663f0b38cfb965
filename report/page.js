/* imgstat report: draws the page from the JSON in #imgstat-data.  Every name from the image
 * goes into the page with textContent (never as markup), so a name cannot add an element or
 * run a script; the page's policy (page.html) lets nothing else run either. */
(function () {
  "use strict";
  var started = performance.now();
  var DATA_VERSION = 1;
  var MAX_CELLS = 400;     /* boxes drawn in one view; the rest is summed up in one */
  var INSIDE_CELLS = 60;   /* boxes drawn inside a directory's box, as a picture ... */
  var INSIDE_DEPTH = 3;    /* ... that many levels down ... */
  var INSIDE_BUDGET = 4000; /* ... and at most so many in one view ... */
  var INSIDE_HOPS = 12;    /* ... nor deeper than this, chains of one directory included */
  var MAX_RESULTS = 50;
  /* @COMMON@ */

  /* Exact sums and differences of figures, those above 2^53 as strings of digits. */
  var LIMIT = 9007199254740992;
  function norm(big) { return big <= BigInt(LIMIT) ? Number(big) : big.toString(); }
  function plus(a, b) {
    if (typeof a === "number" && typeof b === "number" && a + b <= LIMIT) return a + b;
    return norm(BigInt(a) + BigInt(b));
  }
  function sub(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return norm(BigInt(a) - BigInt(b));
  }

  function bytesTitle(v) { return exact(v) + " bytes"; }
  function count(v, one, many) { return exact(v) + " " + (num(v) === 1 ? one : many); }

  /* A figure in human units, exact on hover, the exact value in data-value for tools. */
  function figure(tag, cls, v, key) {
    var e = el(tag, cls, human(v));
    e.title = bytesTitle(v);
    e.dataset.value = String(v);
    if (key) e.dataset.key = key;
    return e;
  }

  var D = pageData(DATA_VERSION);
  if (!D) return;

  /* ---- identity ---------------------------------------------------------------------- */

  function imageName() {
    var im = D.image;
    if (im.refs && im.refs.length) return im.refs[0];
    return im.image_id || D.input || "(unnamed image)";
  }

  function drawIdentity() {
    var im = D.image;
    $("title").textContent = imageName();
    document.title = imageName() + " \u2014 imgstat report";
    var rows = [
      ["Input", D.input], ["Format", im.format], ["Platform", im.platform],
      ["Image ID", im.image_id], ["Manifest", im.manifest_digest],
      ["Refs", im.refs && im.refs.length > 1 ? im.refs.join(", ") : null]
    ];
    var dl = $("identity");
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined) return;
      dl.appendChild(el("dt", null, r[0]));
      dl.appendChild(el("dd", null, r[1]));
    });
    $("footer").textContent = "Written by " + D.generator + ". Every figure is exact; sizes are" +
      " logical bytes, files once per inode, as imgstat --detail prints them.";
  }

  /* ---- totals ------------------------------------------------------------------------ */

  function card(label, valueEl, subText) {
    var c = el("div", "card");
    c.appendChild(el("span", "label", label));
    valueEl.classList.add("value");
    c.appendChild(valueEl);
    if (subText) c.appendChild(el("span", "sub", subText));
    return c;
  }

  function plain(v, key) {
    var e = el("span", null, exact(v));
    e.dataset.value = String(v);
    e.dataset.key = key;
    return e;
  }

  function drawTotals() {
    var t = D.totals, box = $("totals");
    box.appendChild(card("Files", plain(t.total_files_num, "total_files_num"),
      "including " + count(t.hardlinks, "hard-link name", "hard-link names")));
    box.appendChild(card("Size", figure("span", null, t.total_files_size, "total_files_size"),
      human(t.total_files_size_per_path) + " counting every name"));
    var eff = el("span", "sub", "efficiency " + (100 * t.efficiency).toFixed(1) + "%");
    eff.dataset.key = "efficiency";
    eff.dataset.value = String(t.efficiency);
    var w = card("Wasted", figure("span", null, t.wasted_bytes, "wasted_bytes"));
    w.appendChild(eff);
    box.appendChild(w);
    box.appendChild(card("In the layers", figure("span", null, t.layer_files_size,
      "layer_files_size"), count(D.layers.length, "layer", "layers") + ", " +
      count(t.entries, "entry", "entries")));
    box.appendChild(card("Directories", plain(t.dirs, "dirs"),
      count(t.symlinks, "symlink", "symlinks") + ", " + count(t.devices, "device", "devices") +
      ", " + count(t.fifos, "fifo", "fifos")));
  }

  /* ---- layers ------------------------------------------------------------------------ */

  function seg(cls, v, max, what) {
    var s = el("span", "seg " + cls);
    s.style.width = (max > 0 ? 100 * num(v) / max : 0) + "%";
    s.title = what + ": " + bytesTitle(v);
    return s;
  }

  function shortDigest(d) {
    if (!d) return "";
    var colon = d.indexOf(":");
    return colon >= 0 && d.length > colon + 13 ? d.slice(colon + 1, colon + 13) : d;
  }

  function drawLayers() {
    var list = $("layers"), maxEffect = 0, maxSize = 0;
    D.layers.forEach(function (l) {
      maxEffect = Math.max(maxEffect, num(l.bytes_added) + num(l.bytes_replaced) +
        num(l.bytes_removed));
      maxSize = Math.max(maxSize, num(l.uncompressed_bytes), num(l.compressed_bytes));
    });
    D.layers.forEach(function (l, i) {
      var li = el("li", "layer");
      li.dataset.layer = String(i + 1);
      li.appendChild(el("span", "num", "#" + (i + 1)));
      var cmd = el("div", l.created_by ? "cmd" : "cmd none",
        l.created_by || "no command in the config's history");
      if (l.created_by) cmd.title = l.created_by;
      li.appendChild(cmd);
      var bars = el("div");
      var effect = el("div", "bar");
      effect.appendChild(seg("added", l.bytes_added, maxEffect, "added"));
      effect.appendChild(seg("replaced", l.bytes_replaced, maxEffect, "replaced"));
      effect.appendChild(seg("removed", l.bytes_removed, maxEffect, "removed"));
      var size = el("div", "bar thin");
      size.appendChild(seg("blob", l.compressed_bytes, maxSize, "compressed blob"));
      var tar = el("div", "bar thin");
      tar.appendChild(seg("tar", l.uncompressed_bytes, maxSize, "uncompressed tar"));
      bars.appendChild(effect);
      bars.appendChild(size);
      bars.appendChild(tar);
      li.appendChild(bars);
      var figs = el("div", "figs");
      [["added", l.files_added, l.bytes_added, "file", "files"],
       ["replaced", l.files_replaced, l.bytes_replaced, "file", "files"],
       ["removed", l.paths_removed, l.bytes_removed, "path", "paths"]]
        .forEach(function (f) {
          figs.appendChild(document.createTextNode(f[0] + " " + count(f[1], f[3], f[4]) + " "));
          figs.appendChild(figure("b", null, f[2]));
          figs.appendChild(document.createTextNode(" \u00b7 "));
        });
      figs.appendChild(document.createTextNode((l.compression === "none" ? "uncompressed" :
        l.compression) + " blob "));
      figs.appendChild(figure("b", null, l.compressed_bytes));
      figs.appendChild(document.createTextNode(", tar "));
      figs.appendChild(figure("b", null, l.uncompressed_bytes));
      var dg = el("span", "digest", " \u00b7 " + shortDigest(l.digest));
      dg.title = l.digest || "";
      figs.appendChild(dg);
      li.appendChild(figs);
      list.appendChild(li);
    });
  }

  /* ---- the tree ---------------------------------------------------------------------- */

  var T = D.tree, NODES = T.name.length, ROOT = NODES - 1;
  var kids = [];
  var paths = [];

  function buildTree() {
    for (var i = 0; i < NODES; i++) kids.push([]);
    for (i = 0; i < NODES; i++)
      if (T.parent[i] >= 0) kids[T.parent[i]].push(i);
    kids.forEach(function (k) {
      k.sort(function (a, b) { return num(T.bytes[b]) - num(T.bytes[a]); });
    });
  }

  function pathOf(i) {
    if (paths[i] !== undefined) return paths[i];
    var p = T.parent[i] < 0 ? "/" : pathOf(T.parent[i]);
    paths[i] = T.parent[i] < 0 ? "/" : (p === "/" ? "/" : p + "/") + T.name[i];
    return paths[i];
  }

  /* Squarified treemap (Bruls, Huizing, van Wijk 2000): rows along the shorter side. */
  function worst(sum, lo, hi, side) {
    var s2 = side * side, t2 = sum * sum;
    return Math.max(s2 * hi / t2, t2 / (s2 * lo));
  }

  function squarify(areas, x, y, w, h) {
    var out = [], i = 0;
    while (i < areas.length) {
      var side = Math.min(w, h), sum = areas[i], lo = areas[i], hi = areas[i];
      var best = worst(sum, lo, hi, side), j = i + 1;
      for (; j < areas.length; j++) {
        var a = areas[j], r = worst(sum + a, Math.min(lo, a), Math.max(hi, a), side);
        if (r > best) break;
        sum += a; lo = Math.min(lo, a); hi = Math.max(hi, a); best = r;
      }
      var k, off;
      if (w >= h) {
        var cw = h > 0 ? sum / h : 0;
        for (k = i, off = y; k < j; k++) {
          var ch = cw > 0 ? areas[k] / cw : 0;
          out.push([x, off, cw, ch]);
          off += ch;
        }
        x += cw; w -= cw;
      } else {
        var rh = w > 0 ? sum / w : 0;
        for (k = i, off = x; k < j; k++) {
          var rw = rh > 0 ? areas[k] / rh : 0;
          out.push([off, y, rw, rh]);
          off += rw;
        }
        y += rh; h -= rh;
      }
      i = j;
    }
    return out;
  }

  var current = ROOT, hit = -1;

  /* The boxes of one directory: its largest children, then one for the rest. */
  function boxesOf(dir, max) {
    var shown = [], sumBytes = 0, sumFiles = 0;
    max = max || MAX_CELLS;
    kids[dir].forEach(function (c) {
      if (shown.length >= max - 1 || num(T.bytes[c]) <= 0) return;
      shown.push({node: c, bytes: T.bytes[c]});
      sumBytes = plus(sumBytes, T.bytes[c]);
      sumFiles += num(T.files[c]);
    });
    var restBytes = sub(T.bytes[dir], sumBytes), restFiles = num(T.files[dir]) - sumFiles;
    var rest = num(restBytes) > 0 || restFiles > 0 ?
      {node: -1, bytes: restBytes, files: restFiles} : null;
    return {shown: shown, rest: rest};
  }

  function cellLabel(b) {
    if (b.node < 0)
      return "\u2026 " + count(b.files, "more file", "more files") + ", " + human(b.bytes);
    return T.name[b.node];
  }

  function drawCell(map, b, r, share) {
    var isDir = b.node >= 0 && T.dir[b.node] === "d";
    var c = el("div", "cell " + (b.node < 0 ? "rest" : isDir ? "dir" : "file"));
    c.style.left = r[0] + "px";
    c.style.top = r[1] + "px";
    c.style.width = r[2] + "px";
    c.style.height = r[3] + "px";
    if (r[2] < 3 || r[3] < 3) c.classList.add("thin"); /* no border to make it larger */
    c.dataset.bytes = String(b.bytes);
    c.dataset.node = String(b.node);
    if (b.node >= 0) c.dataset.path = pathOf(b.node);
    c.tabIndex = 0;
    var label = cellLabel(b), what = isDir ? "directory" : b.node < 0 ? "summed up" : "file";
    c.title = (b.node >= 0 ? pathOf(b.node) : label) + "\n" + human(b.bytes) + " (" +
      bytesTitle(b.bytes) + ")" + (isDir ? "\n" + count(T.files[b.node], "file", "files") : "");
    c.setAttribute("role", isDir ? "button" : "img");
    c.setAttribute("aria-label", label + ", " + what + ", " + human(b.bytes));
    var top = 0;
    if (r[2] > 36 && r[3] > 16) { c.appendChild(el("span", "name", label)); top = 18; }
    if (r[2] > 36 && r[3] > 32 && b.node >= 0) {
      c.appendChild(el("span", "size", human(b.bytes)));
      top = 34;
    }
    if (isDir && r[2] > 48 && r[3] > top + 24)
      drawInside(c, b.node, r[2] - 2, r[3] - 2, top, 1, Math.floor(INSIDE_BUDGET * share));
    if (b.node === hit) c.classList.add("hit");
    map.appendChild(c);
    return c;
  }

  /* A directory's own boxes, a few levels down, as a picture only (the box is what is
   * clicked): INSIDE_DEPTH levels (a directory with one box inside does not count one) and
   * at most `budget` boxes, shared out by area. */
  function drawInside(parent, dir, w, h, top, level, budget, hops) {
    hops = hops || 0;
    var boxes = boxesOf(dir, INSIDE_CELLS), all = boxes.shown.slice();
    if (boxes.rest && num(boxes.rest.bytes) > 0) all.push(boxes.rest);
    var total = num(T.bytes[dir]), W = w - 6, H = h - top - 4;
    if (total <= 0 || W < 8 || H < 8 || budget < all.length || hops > INSIDE_HOPS) return;
    var rects = squarify(all.map(function (b) { return num(b.bytes) / total * W * H; }),
      3, top + 1, W, H);
    var left = budget - all.length, next = all.length > 1 ? level + 1 : level;
    all.forEach(function (b, i) {
      var kind = b.node < 0 ? "rest" : T.dir[b.node] === "d" ? "dir" : "file";
      var e = el("div", "inner " + kind + " l" + Math.min(level, 3)), r = rects[i];
      e.style.left = r[0] + "px";
      e.style.top = r[1] + "px";
      e.style.width = r[2] + "px";
      e.style.height = r[3] + "px";
      e.setAttribute("aria-hidden", "true");
      parent.appendChild(e);
      var label = 0;
      if (level === 1 && all.length > 1 && b.node >= 0 && r[2] > 56 && r[3] > 30) {
        e.appendChild(el("span", "name", T.name[b.node]));  /* a picture's caption, as text */
        label = 16;
      }
      if (kind === "dir" && next <= INSIDE_DEPTH && r[2] > 16 && r[3] > 16 + label)
        drawInside(e, b.node, r[2], r[3], label, next, Math.floor(left * r[2] * r[3] / (W * H)),
          hops + 1);
    });
  }

  function drawMap() {
    var map = $("map");
    while (map.firstChild) map.removeChild(map.firstChild);
    var W = map.clientWidth, H = map.clientHeight;
    var boxes = boxesOf(current), all = boxes.shown.slice();
    if (boxes.rest && num(boxes.rest.bytes) > 0) all.push(boxes.rest);
    var total = num(T.bytes[current]);
    var areas = all.map(function (b) { return total > 0 ? num(b.bytes) / total * W * H : 0; });
    var rects = squarify(areas, 0, 0, W, H);
    all.forEach(function (b, i) { drawCell(map, b, rects[i], W * H > 0 ? areas[i] / (W * H) : 0); });
    drawCrumbs();
    drawCaption(boxes);
  }

  function drawCaption(boxes) {
    var p = pathOf(current), cap = $("map-caption");
    var text = p + ": " + human(T.bytes[current]) + " in " +
      count(T.files[current], "file", "files");
    if (boxes.rest && boxes.rest.files > 0)
      text += "; " + count(boxes.shown.length, "entry", "entries") + " drawn, \u2026 " +
        count(boxes.rest.files, "more file", "more files") + ", " + human(boxes.rest.bytes) +
        " summed up";
    cap.textContent = text;
    cap.title = bytesTitle(T.bytes[current]);
  }

  function drawCrumbs() {
    var nav = $("crumbs"), chain = [];
    while (nav.firstChild) nav.removeChild(nav.firstChild);
    for (var i = current; i >= 0; i = T.parent[i]) chain.unshift(i);
    chain.forEach(function (n, k) {
      if (k) nav.appendChild(el("span", "sep", "/"));
      var b = el("button", null, n === ROOT ? "/ (root)" : T.name[n]);
      b.type = "button";
      b.dataset.node = String(n);
      if (n === current) b.setAttribute("aria-current", "location");
      b.addEventListener("click", function () { open(n); });
      nav.appendChild(b);
    });
  }

  function open(dir, focusNode) {
    current = dir;
    drawMap();
    var want = focusNode !== undefined ? focusNode : -2;
    var cells = $("map").querySelectorAll(".cell");
    for (var i = 0; i < cells.length; i++)
      if (Number(cells[i].dataset.node) === want || (want === -2 && i === 0)) {
        cells[i].focus();
        break;
      }
  }

  function up() {
    if (T.parent[current] >= 0) open(T.parent[current], current);
  }

  /* Arrow keys: to the nearest box whose centre lies that way. */
  function move(from, dx, dy) {
    var a = from.getBoundingClientRect(), ax = a.left + a.width / 2, ay = a.top + a.height / 2;
    var best = null, bestD = Infinity;
    $("map").querySelectorAll(".cell").forEach(function (c) {
      if (c === from) return;
      var b = c.getBoundingClientRect(), x = b.left + b.width / 2 - ax, y = b.top + b.height / 2 - ay;
      var along = x * dx + y * dy, across = Math.abs(x * dy - y * dx);
      if (along <= 0) return;
      var d = along + 2 * across;
      if (d < bestD) { bestD = d; best = c; }
    });
    if (best) best.focus();
  }

  function wireMap() {
    var map = $("map");
    map.addEventListener("click", function (ev) {
      var c = ev.target.closest(".cell");
      if (c && T.dir[Number(c.dataset.node)] === "d") open(Number(c.dataset.node));
    });
    map.addEventListener("keydown", function (ev) {
      var c = ev.target.closest(".cell");
      if (!c) return;
      var k = ev.key;
      if ((k === "Enter" || k === " ") && T.dir[Number(c.dataset.node)] === "d") {
        open(Number(c.dataset.node));
      } else if (k === "Backspace" || k === "Escape" || (k === "ArrowUp" && ev.altKey)) {
        up();
      } else if (k === "ArrowLeft") move(c, -1, 0);
      else if (k === "ArrowRight") move(c, 1, 0);
      else if (k === "ArrowUp") move(c, 0, -1);
      else if (k === "ArrowDown") move(c, 0, 1);
      else return;
      ev.preventDefault();
    });
    var timer = 0;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(drawMap, 100);
    });
  }

  /* ---- search ------------------------------------------------------------------------ */

  var index = null;

  /* Every path the page holds: the tree's, the largest files', the wasted files'. */
  function buildIndex() {
    var seen = Object.create(null);
    index = [];
    function add(p, bytes, node) {
      if (seen[p]) return;
      seen[p] = true;
      index.push({path: p, low: p.toLowerCase(), bytes: bytes, node: node});
    }
    for (var i = 0; i < NODES; i++) add(pathOf(i), T.bytes[i], i);
    D.largest.forEach(function (f) { add(f[0], f[1], -1); });
    if (D.wasted) D.wasted.files.forEach(function (f) { add(f[0], null, -1); });
  }

  /* The deepest directory the page holds on the way to path. */
  function dirFor(path) {
    var best = ROOT;
    for (var i = 0; i < NODES; i++) {
      var p = pathOf(i);
      if (T.dir[i] === "d" && (path === p || path.indexOf(p === "/" ? "/" : p + "/") === 0) &&
          p.length > pathOf(best).length)
        best = i;
    }
    return best;
  }

  function show(item) {
    var node = item.node, dir;
    if (node >= 0 && T.dir[node] === "d") { dir = node; node = undefined; }
    else if (node >= 0) dir = T.parent[node];
    else dir = dirFor(item.path);
    hit = node === undefined ? -1 : node;
    open(dir, node);
    $("map").scrollIntoView({block: "nearest"});
  }

  function runSearch() {
    var q = $("search").value.trim().toLowerCase(), list = $("results"), note = $("search-note");
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!index) buildIndex();
    if (!q) { note.textContent = searchScope(); return; }
    var found = 0;
    for (var i = 0; i < index.length; i++) {
      if (index[i].low.indexOf(q) < 0) continue;
      if (++found > MAX_RESULTS) continue;
      var item = index[i], li = el("li"), b = el("button", null, item.path);
      b.type = "button";
      b.dataset.path = item.path;
      b.addEventListener("click", show.bind(null, item));
      li.appendChild(b);
      if (item.bytes !== null) {
        var s = figure("span", "size", item.bytes);
        li.appendChild(s);
      }
      list.appendChild(li);
    }
    note.textContent = found === 0 ? "No path the page holds contains that." :
      count(found, "path", "paths") + (found > MAX_RESULTS ? ", the first " + MAX_RESULTS +
      " shown" : "") + ". " + searchScope();
  }

  function searchScope() {
    var held = NODES, all = num(T.nodes);
    return held >= all ? "The search covers every file and directory of the image." :
      "The search covers the " + exact(held) + " largest of the image's " + exact(all) +
      " files and directories, and the files listed below.";
  }

  function wireSearch() {
    var timer = 0, box = $("search");
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(runSearch, 120);
    });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { clearTimeout(timer); runSearch(); }
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "/" && document.activeElement !== box &&
          !(ev.target instanceof HTMLInputElement)) {
        box.focus();
        ev.preventDefault();
      }
    });
    $("search-note").textContent = searchScope();
  }

  /* ---- the lists --------------------------------------------------------------------- */

  function row(cells) {
    var tr = el("tr");
    cells.forEach(function (c) { tr.appendChild(c); });
    return tr;
  }

  function drawLists() {
    var body = $("largest").tBodies[0];
    D.largest.forEach(function (f, i) {
      body.appendChild(row([el("td", null, i + 1), figure("td", "num", f[1]),
        el("td", "path", f[0])]));
    });
    var wb = $("wasted").tBodies[0], note = $("wasted-note");
    if (!D.wasted) {
      note.textContent = "Not tracked: the page was written from a scan without waste tracking.";
      return;
    }
    if (num(D.wasted.paths) === 0) {
      note.textContent = "Nothing is wasted: the final view holds every byte the layers carry.";
      $("wasted").hidden = true;
      return;
    }
    note.textContent = count(D.wasted.paths, "path holds", "paths hold") + " the " +
      human(D.totals.wasted_bytes) + " wasted: bytes the layers carry but the final view " +
      "does not (files overwritten, deleted or hidden)" +
      (num(D.wasted.paths) > D.wasted.files.length ? "; the " + D.wasted.files.length +
      " largest are listed." : ".");
    D.wasted.files.forEach(function (f, i) {
      wb.appendChild(row([el("td", null, i + 1), figure("td", "num", f[2]),
        el("td", "num", exact(f[1])), el("td", "layers", f[3].join(", ")),
        el("td", "path", f[0])]));
    });
  }

  try {
    drawIdentity();
    drawTotals();
    drawLayers();
    buildTree();
    wireMap();
    wireSearch();
    drawLists();
    drawMap();
    /* for tools: the script's own time, and the time since the page was asked for */
    document.documentElement.dataset.ready = String(Math.round(performance.now() - started));
    document.documentElement.dataset.loaded = String(Math.round(performance.now()));
  } catch (e) {
    fail(e && e.message ? e.message : String(e));
    throw e;
  }
})();
