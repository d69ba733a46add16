/* occur tracking script (docs/tracking.md). HubSpot's _hsq calls, sent to occur.
   GET /js/{portalId}.js appends the portal's part: this function's two arguments, a
   configuration and one function per custom code block. */
(function (config, blocks) {
  "use strict";
  var w = window, d = document, nav = navigator, loc = location;
  var MAX_NAME = 50, MAX_VALUE = 256, MAX_LONG_VALUE = 1024, MAX_PROPERTIES = 50;
  var MAX_EVENTS = 50, MAX_EVENT_NAME = 200, KEEPALIVE_BYTES = 65536, MAX_WAITING = 200;
  var YEAR_AND_A_MONTH = 395 * 86400; // 13 months, in seconds
  var UTK = "hubspotutk", DNT = "__hs_do_not_track", OPT_OUT = "__hs_opt_out";

  var queue = w._hsq && typeof w._hsq.push === "function" ? w._hsq : (w._hsq = []);
  if (queue.occur) return; // the tag is on the page twice
  queue.occur = true;

  var visual = config.visual || [];
  var picker = pickerToken();
  var utk = null, identity = null, path = null, referrer = d.referrer;
  var pending = [], scheduled = false, viewed = false, revoked = false, refreshed = false;
  var listeners = [], clickRules = [];

  // ---- consent: "on" sends, "wait" holds completions in memory, "off" drops them ----
  function state() {
    var choice = cookie(OPT_OUT);
    if (picker || revoked || cookie(DNT) || choice === "yes") return "off";
    return choice === "no" || !config.consentRequired ? "on" : "wait";
  }

  function consent() {
    var on = state() === "on";
    return {
      allowed: on,
      categories: { necessary: true, analytics: on, advertisement: on, functionality: on }
    };
  }

  function tell(listener) {
    try {
      listener(consent());
    } catch (e) {
      warn("consent listener", e);
    }
  }

  function consentChanged() {
    if (state() === "off") {
      pending = [];
      forgetVisitor();
    } else {
      schedule();
    }
    listeners.forEach(tell);
  }

  function giveConsent() {
    revoked = false;
    removeCookie(DNT);
    setCookie(OPT_OUT, "no");
    consentChanged();
  }

  function forgetVisitor() {
    utk = null;
    refreshed = false;
    removeCookie(UTK);
  }

  // ---- cookies: first-party, on the widest domain the browser accepts ----
  function cookie(name) {
    var found = new RegExp("(?:^|; )" + name + "=([^;]*)").exec(d.cookie);
    return found ? found[1] : null;
  }

  function domains() {
    var host = loc.hostname, parts = host.split("."), found = [];
    if (parts.length < 2 || /^[\d.]+$|:/.test(host)) return found;
    for (var i = parts.length - 2; i >= 0; i--) found.push(parts.slice(i).join("."));
    return found;
  }

  // The registrable domain (example.co.uk for shop.example.co.uk): the widest one the
  // browser lets a probe cookie be set on, found once per page.
  var cookieDomain = null;
  function widestDomain() {
    if (cookieDomain !== null) return cookieDomain;
    cookieDomain = "";
    var wide = domains();
    for (var i = 0; i < wide.length && !cookieDomain; i++) {
      d.cookie = "occur_probe=1; path=/; domain=" + wide[i]; // refused for public suffixes
      if (cookie("occur_probe") === "1") {
        cookieDomain = wide[i];
        d.cookie = "occur_probe=; path=/; max-age=0; domain=" + wide[i];
      }
    }
    return cookieDomain;
  }

  function setCookie(name, value) {
    var domain = widestDomain();
    d.cookie = name + "=" + value + "; path=/; max-age=" + YEAR_AND_A_MONTH + "; SameSite=Lax" +
      (domain ? "; domain=" + domain : "") + (loc.protocol === "https:" ? "; Secure" : "");
  }

  function removeCookie(name) {
    var gone = name + "=; path=/; max-age=0";
    domains().forEach(function (domain) {
      d.cookie = gone + "; domain=" + domain;
    });
    d.cookie = gone;
  }

  // Set (again) once per page, so the cookie lasts 13 months from the last visit.
  function visitor() {
    if (!utk) {
      var found = cookie(UTK);
      utk = /^[0-9a-f]{32}$/.test(found || "") ? found : hex(16);
    }
    if (!refreshed || cookie(UTK) !== utk) setCookie(UTK, utk);
    refreshed = true;
    return utk;
  }

  // ---- ids ----
  function randomBytes(n) {
    return w.crypto.getRandomValues(new Uint8Array(n));
  }

  function hex(n) {
    return Array.prototype.map.call(randomBytes(n), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  function uuid() {
    var b = randomBytes(16);
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) {
      return (x + 256).toString(16).slice(1);
    }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // ---- lenient limits (the collector applies them again) ----
  function cut(text, max) {
    return text.length <= max ? text : Array.from(text).slice(0, max).join("");
  }

  function takesLongValues(name) {
    return /url|referrer|link/i.test(name); // occur.domain.names.takes_long_values
  }

  function scalar(value) {
    var type = typeof value;
    if (type === "string" || type === "boolean") return value;
    if (type === "number") return isFinite(value) ? value : undefined;
    if (value instanceof Date) return isNaN(value) ? undefined : value.toISOString();
    if (value && type === "object") {
      try {
        return JSON.stringify(value);
      } catch (e) {
        return undefined;
      }
    }
    return undefined;
  }

  function limited(properties, asText) {
    var out = {}, count = 0;
    if (!properties || typeof properties !== "object") return out;
    Object.keys(properties).some(function (key) {
      var name = cut(String(key), MAX_NAME), value = scalar(properties[key]);
      if (value === undefined || Object.prototype.hasOwnProperty.call(out, name)) return false;
      if (typeof value === "string" || asText) {
        value = cut(String(value), takesLongValues(name) ? MAX_LONG_VALUE : MAX_VALUE);
      }
      out[name] = value;
      return ++count >= MAX_PROPERTIES;
    });
    return out;
  }

  // ---- pages and sending ----
  function currentUrl() {
    return path === null ? loc.href : loc.protocol + "//" + loc.host + path;
  }

  function page() {
    return {
      url: cut(currentUrl(), MAX_LONG_VALUE),
      title: cut(String(d.title || ""), MAX_VALUE),
      referrer: cut(referrer || "", MAX_LONG_VALUE),
      language: nav.language || "",
      screenWidth: w.screen ? screen.width : undefined,
      screenHeight: w.screen ? screen.height : undefined
    };
  }

  function record(completion) {
    completion.id = uuid();
    completion.at = Date.now();
    pending.push(completion);
    schedule();
  }

  // Calls made in the same task leave in one payload.
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    Promise.resolve().then(flush);
  }

  function flush() {
    scheduled = false;
    var now = state();
    if (now === "off") pending = [];
    if (now !== "on") {
      if (pending.length > MAX_WAITING) pending.splice(0, pending.length - MAX_WAITING);
      return;
    }
    while (pending.length) {
      var body = { v: 1, utk: visitor(), page: page(), events: pending.splice(0, MAX_EVENTS) };
      if (identity) {
        body.identify = identity;
        identity = null;
      }
      send(body);
    }
  }

  function byteLength(text) {
    return w.Blob ? new Blob([text]).size : text.length * 3;
  }

  function send(body) {
    var json = JSON.stringify(body), size = byteLength(json), url = config.collector;
    if (size <= KEEPALIVE_BYTES && nav.sendBeacon) {
      try {
        if (nav.sendBeacon(url, json)) return; // a string body goes as text/plain
      } catch (e) {
        // refused: fetch below
      }
    }
    if (w.fetch) {
      w.fetch(url, {
        method: "POST",
        body: json,
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
        keepalive: size <= KEEPALIVE_BYTES,
        credentials: "omit",
        mode: "cors"
      }).catch(function () {});
      return;
    }
    try {
      var data = btoa(unescape(encodeURIComponent(json)));
      new Image().src = url + ".gif?d=" + data.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    } catch (e) {
      warn("pixel", e);
    }
  }

  // ---- visual events ----
  // url-rules: begin (tests run this part against occur.domain.url_rules' table)
  function urlMatches(rule, url) {
    if (!rule) return true;
    var page = url.split("#")[0];
    if (rule.op === "query_param_is" || rule.op === "query_param_contains") {
      var wanted = rule.value.toLowerCase();
      return queryPairs(page).some(function (pair) {
        var value = pair[1].toLowerCase();
        if (pair[0] !== rule.param) return false;
        return rule.op === "query_param_is" ? value === wanted : value.indexOf(wanted) >= 0;
      });
    }
    var value = rule.value.toLowerCase(), subject = urlSubject(page, value).toLowerCase();
    if (rule.op === "is") return stripSlash(subject) === stripSlash(value);
    if (rule.op === "contains") return subject.indexOf(value) >= 0;
    if (rule.op === "begins_with") return subject.indexOf(value) === 0;
    if (rule.op === "matches_wildcard") {
      var parts = value.split("*").map(function (part) {
        return part.replace(/[.*+?^${}()|[\]\\\/-]/g, "\\$&");
      });
      return new RegExp("^" + parts.join("[\\s\\S]*") + "$").test(subject);
    }
    return false;
  }

  function urlSubject(page, value) {
    var schemeEnd = page.indexOf("://");
    if (value.charAt(0) === "/") {
      if (schemeEnd < 0) return page;
      var rest = page.slice(schemeEnd + 3), at = rest.search(/[\/?]/);
      if (at < 0) return "/";
      return rest.charAt(at) === "?" ? "/" + rest.slice(at) : rest.slice(at);
    }
    if (value.indexOf("://") < 0 && schemeEnd >= 0) return page.slice(schemeEnd + 3);
    return page;
  }

  function stripSlash(text) {
    return text.slice(-1) === "/" ? text.slice(0, -1) : text;
  }

  function queryPairs(page) {
    var at = page.indexOf("?");
    if (at < 0) return [];
    return page.slice(at + 1).split("&").filter(Boolean).map(function (part) {
      var eq = part.indexOf("=");
      return eq < 0 ? [decode(part), ""] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))];
    });
  }

  function decode(text) {
    text = text.replace(/\+/g, " ");
    try {
      return decodeURIComponent(text);
    } catch (e) {
      return text;
    }
  }
  // url-rules: end

  function bindClicks() {
    var url = currentUrl();
    clickRules = visual.filter(function (rule) {
      return rule.type === "CLICKED_ELEMENT" && urlMatches(rule.url, url);
    });
  }

  function onClick(event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    clickRules.forEach(function (rule) {
      var element = null;
      try {
        element = target.closest(rule.selector);
      } catch (e) {
        return; // a selector this browser cannot read binds nothing
      }
      if (element) record({ kind: "event", name: rule.name, properties: elementProperties(element) });
    });
  }

  function elementProperties(element) {
    var link = element.closest("a[href]"), found = {};
    var text = (element.textContent || "").replace(/\s+/g, " ").trim();
    if (element.id) found.hs_element_id = element.id;
    if (element.getAttribute("class")) found.hs_element_class = element.getAttribute("class").trim();
    if (text) found.hs_element_text = text;
    if (link) found.hs_link_href = link.href;
    return limited(found);
  }

  // ---- the _hsq and _hsp methods ----
  function trackPageView() {
    viewed = true;
    record({ kind: "pageview" });
    var url = currentUrl();
    visual.forEach(function (rule) {
      if (rule.type === "VISITED_URL" && urlMatches(rule.url, url)) {
        record({ kind: "event", name: rule.name, properties: {} });
      }
    });
    bindClicks();
  }

  var methods = {
    trackPageView: trackPageView,
    setPath: function (next) {
      if (typeof next !== "string" || next.charAt(0) !== "/") return;
      flush(); // what was tracked before belongs to the page before
      referrer = currentUrl();
      path = next;
      bindClicks();
    },
    identify: function (person) {
      if (!person || typeof person !== "object") return;
      var found = limited(person, true);
      identity = identity || {};
      Object.keys(found).forEach(function (key) {
        identity[key] = found[key];
      });
    },
    trackCustomBehavioralEvent: function (event) {
      var name = event && event.name;
      if (typeof name !== "string" || !name.trim()) return;
      record({
        kind: "event",
        name: cut(name.trim(), MAX_EVENT_NAME),
        properties: limited(event.properties)
      });
    },
    refreshPageHandlers: bindClicks,
    addPrivacyConsentListener: function (listener) {
      if (typeof listener !== "function") return;
      listeners.push(listener);
      tell(listener);
    },
    revokeCookieConsent: function () {
      revoked = true; // nothing more from this page; the next one asks again
      removeCookie(OPT_OUT);
      consentChanged();
    },
    doNotTrack: function (options) {
      if (options && options.track === true) return giveConsent();
      setCookie(DNT, "yes");
      consentChanged();
    },
    // The consent banner API (window._hsp) of a third-party banner.
    setHubSpotConsent: function (choice) {
      if (choice && choice.analytics) return giveConsent();
      setCookie(OPT_OUT, "yes");
      consentChanged();
    }
  };

  function warn(what, error) {
    if (w.console) console.warn("occur: " + what + " failed", error);
  }

  function run(call) {
    try {
      var method = call && typeof call[0] === "string" && methods[call[0]];
      if (method) method.apply(null, Array.prototype.slice.call(call, 1));
    } catch (e) {
      warn(call[0], e);
    }
  }

  // Calls queued before the script loaded run now, later ones at once.
  function adopt(calls) {
    var early = Array.prototype.slice.call(calls);
    calls.length = 0;
    calls.push = function () {
      Array.prototype.forEach.call(arguments, run);
      return 0;
    };
    early.forEach(run);
  }

  // ---- custom code blocks: each in its own task, so one failing stops nothing else ----
  function runBlocks() {
    (blocks || []).forEach(function (block, index) {
      setTimeout(function () {
        var what = "code block " + (index + 1);
        try {
          var result = block.call(w);
          if (result && typeof result.then === "function") {
            result.then(null, function (e) {
              warn(what, e);
            });
          }
        } catch (e) {
          warn(what, e);
        }
      }, 0);
    });
  }

  // ---- the picker: occur's wizard opened this page to choose an element ----
  function pickerToken() {
    var found = /(?:^#|&)occur-picker=([\w-]{8,200})(?:&|$)/.exec(loc.hash);
    return found ? found[1] : null;
  }

  function escapeCss(text) {
    return w.CSS && CSS.escape ? CSS.escape(text) : text.replace(/[^\w-]/g, "\\$&");
  }

  function onlyMatch(selector, element) {
    try {
      var all = d.querySelectorAll(selector);
      return all.length === 1 && all[0] === element;
    } catch (e) {
      return false;
    }
  }

  function stableClasses(element) {
    return Array.prototype.filter.call(element.classList, function (name) {
      return /^[a-zA-Z_][\w-]{0,39}$/.test(name) && !/\d{3}|^(css|sc|jsx|svelte)-/.test(name);
    }).map(function (name) {
      return "." + escapeCss(name);
    }).join("");
  }

  function nthOfType(element) {
    var index = 0, count = 0, sibling = element.parentElement && element.parentElement.firstElementChild;
    for (; sibling; sibling = sibling.nextElementSibling) {
      if (sibling.tagName === element.tagName) {
        count++;
        if (sibling === element) index = count;
      }
    }
    return count > 1 ? ":nth-of-type(" + index + ")" : "";
  }

  // #id when unique, else the shortest tag.class path (with :nth-of-type where needed)
  // from the nearest ancestor that makes it unique.
  function selectorFor(target) {
    var below = "";
    for (var node = target; node && node.nodeType === 1; node = node.parentElement) {
      if (node.id && onlyMatch("#" + escapeCss(node.id) + below, target)) {
        return "#" + escapeCss(node.id) + below;
      }
      var plain = node.tagName.toLowerCase() + stableClasses(node);
      if (onlyMatch(plain + below, target)) return plain + below;
      var exact = plain + nthOfType(node);
      if (onlyMatch(exact + below, target)) return exact + below;
      below = " > " + exact + below;
    }
    return below.slice(3);
  }

  function startPicker() {
    var host = d.createElement("occur-picker");
    var root = host.attachShadow({ mode: "open" });
    function add(parent, tag, css, text) {
      var element = d.createElement(tag);
      element.style.cssText = css;
      if (text) element.textContent = text;
      return parent.appendChild(element);
    }
    host.style.cssText = "position:fixed;left:0;top:0;width:0;height:0;z-index:2147483647";
    var box = add(root, "div", "position:fixed;pointer-events:none;display:none;" +
      "box-sizing:border-box;border:2px solid #d6336c;background:rgba(214,51,108,.12)");
    var panel = add(root, "div", "position:fixed;right:16px;bottom:16px;max-width:440px;" +
      "padding:12px 14px;background:#fff;color:#1f2328;font:14px/1.4 system-ui,sans-serif;" +
      "border-radius:8px;box-shadow:0 6px 24px rgba(0,0,0,.3)");
    var hint = add(panel, "div", "", "occur: point at an element and click it.");
    var shown = add(panel, "code", "display:block;margin:8px 0 4px;word-break:break-all;font:12px monospace");
    var count = add(panel, "div", "font-size:12px;color:#57606a");
    var confirm = add(panel, "button", "margin:10px 8px 0 0", "Confirm");
    var cancel = add(panel, "button", "margin:10px 0 0", "Cancel");
    box.id = "outline";
    shown.id = "selector";
    count.id = "matches";
    confirm.id = "confirm";
    cancel.id = "cancel";
    confirm.disabled = true;
    var chosen = null, hovered = null, selector = "";

    // The element under the pointer is outlined with its proposed selector; a click
    // holds it (and is not passed to the page) until Confirm or Cancel.
    function show(element) {
      var r = element.getBoundingClientRect(), s = box.style;
      s.display = "block";
      s.left = r.left + "px";
      s.top = r.top + "px";
      s.width = r.width + "px";
      s.height = r.height + "px";
      selector = selectorFor(element);
      shown.textContent = selector;
      var n = d.querySelectorAll(selector).length;
      count.textContent = "Matches " + n + (n === 1 ? " element." : " elements.");
    }
    function onMove(event) {
      var target = event.target;
      if (chosen || target === host || target === hovered || !(target instanceof Element)) return;
      hovered = target;
      show(target);
    }
    function onPick(event) {
      if (event.target === host || !(event.target instanceof Element)) return; // our panel
      event.preventDefault();
      event.stopImmediatePropagation();
      chosen = hovered = event.target;
      show(chosen);
      hint.textContent = "Confirm sends this selector to occur; Cancel picks again.";
      confirm.disabled = false;
    }
    function stop() {
      d.removeEventListener("mousemove", onMove, true);
      d.removeEventListener("click", onPick, true);
      box.style.display = "none";
      confirm.disabled = cancel.disabled = true;
    }
    confirm.addEventListener("click", function () {
      if (!w.opener) {
        hint.textContent = "Open this page from occur's event wizard to send the selector.";
        return;
      }
      w.opener.postMessage({
        type: "occur-picker",
        token: picker,
        selector: selector,
        pageUrl: loc.href.split("#")[0]
      }, config.origin);
      hint.textContent = "Sent to occur: you can close this tab.";
      stop();
    });
    cancel.addEventListener("click", function () {
      chosen = hovered = null;
      shown.textContent = count.textContent = "";
      hint.textContent = "occur: point at an element and click it.";
      confirm.disabled = true;
      box.style.display = "none";
    });
    d.addEventListener("mousemove", onMove, true);
    d.addEventListener("click", onPick, true);
    d.documentElement.appendChild(host);
  }

  // ---- start ----
  adopt(queue);
  if (Array.isArray(w._hsp) || !w._hsp) adopt(w._hsp = w._hsp || []);
  if (!viewed) trackPageView(); // once on load, as HubSpot's script does
  if (state() === "on") visitor();
  d.addEventListener("click", onClick, true);
  w.addEventListener("pagehide", flush);
  if (!picker) {
    runBlocks();
  } else if (d.readyState === "loading") {
    d.addEventListener("DOMContentLoaded", startPicker);
  } else {
    startPicker();
  }
})
