// biomatdb: progressive enhancement only. Every page works without this file.
//
// Live forms: a GET form marked data-live updates as the user changes it. The page
// at the form's new URL is fetched and the element marked data-live-region replaced
// by the same element of the fetched page; the address bar follows (the URL stays
// the whole query, shareable). Focus stays on the field being used.
(function () {
  "use strict";

  // The form's URL without its empty fields: path?query#fragment (the action's
  // fragment, e.g. /chart#chart, stays at the end).
  function urlOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value !== "") params.append(name, value);
    });
    var query = params.toString();
    var action = form.getAttribute("action") || window.location.pathname;
    var cut = action.indexOf("#");
    var path = cut >= 0 ? action.slice(0, cut) : action;
    var fragment = cut >= 0 ? action.slice(cut) : "";
    return path + (query ? "?" + query : "") + fragment;
  }

  function live(form) {
    var pending = null;
    var timer = null;

    function update() {
      var url = urlOf(form);
      if (pending) pending.abort();
      pending = new AbortController();
      form.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "text/html" }, signal: pending.signal })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fetched = new DOMParser().parseFromString(html, "text/html");
          var focused = document.activeElement && document.activeElement.id;
          document.querySelectorAll("[data-live-region]").forEach(function (region) {
            var fresh = region.id && fetched.getElementById(region.id);
            if (fresh) region.replaceWith(document.importNode(fresh, true));
          });
          history.replaceState(null, "", url);
          if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
        })
        .catch(function (error) {
          if (error.name !== "AbortError") window.location.assign(url);
        })
        .finally(function () { form.removeAttribute("aria-busy"); });
    }

    form.addEventListener("change", function (event) {
      if (event.target.type === "text" || event.target.type === "search") return;
      update();
    });
    form.addEventListener("input", function (event) {
      if (event.target.type !== "text" && event.target.type !== "search") return;
      clearTimeout(timer);
      timer = setTimeout(update, 400);
    });
  }

  document.querySelectorAll("form[data-live]").forEach(live);

  // GET forms leave their empty fields out of the URL (without this script the URL
  // holds them too, empty, which means the same).
  document.querySelectorAll("form[method='get']").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.name) return;
      event.preventDefault();
      window.location.assign(urlOf(form));
    });
  });
})();
