  /* ---- common.js: what both pages draw with (page.js, index.js); embed.py puts it in each
   * page's script where its marker is. ---- */
  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* Figures above 2^53 arrive as strings of digits: exact with BigInt, drawn as numbers. */
  function num(v) { return typeof v === "string" ? Number(v) : v; }
  function exact(v) {
    return (typeof v === "string" ? BigInt(v) : v).toLocaleString("en-US");
  }

  /* As imgstat --format text: powers of 1024, one decimal. */
  var UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  function human(v) {
    var d = num(v), u = 0;
    while (d >= 1024 && u < UNITS.length - 1) { d /= 1024; u++; }
    return u ? d.toFixed(1) + " " + UNITS[u] : d.toFixed(0) + " B";
  }

  function fail(msg) {
    var f = $("failure");
    f.hidden = false;
    f.textContent = "This page could not be drawn: " + msg;
    document.documentElement.dataset.error = msg;
  }

  /* The page's JSON (#imgstat-data) if it is of the version the page draws; else null, and
   * the page says why. */
  function pageData(version) {
    var d;
    try {
      d = JSON.parse($("imgstat-data").textContent);
    } catch (e) {
      fail("its data is not JSON (" + e.message + ")");
      return null;
    }
    if (!d || d.version !== version) {
      fail("its data is of another version");
      return null;
    }
    return d;
  }
  /* ---- end of common.js ---- */
