// The feedback box's one convenience: keeping codes in this browser's
// local storage, which never leaves the device. Without it, everything
// works; the code is then for the sender to keep.
(function () {
  "use strict";
  var KEY = "belong.feedback.codes";
  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(codes) {
    try { window.localStorage.setItem(KEY, JSON.stringify(codes)); return true; } catch (e) { return false; }
  }
  var keep = document.getElementById("keep-code");
  if (keep) {
    keep.hidden = false;
    keep.addEventListener("click", function () {
      var codes = load();
      var code = keep.getAttribute("data-code");
      if (codes.indexOf(code) < 0) { codes.push(code); }
      document.getElementById("kept").textContent = save(codes)
        ? "Kept on this device. Anyone using this browser can open the conversation."
        : "This browser does not keep it; write the code down instead.";
    });
  }
  var list = document.getElementById("kept-list");
  var field = document.getElementById("code");
  if (list && field) {
    var codes = load();
    codes.forEach(function (code, i) {
      var li = document.createElement("li");
      var use = document.createElement("button");
      use.type = "button";
      use.className = "link";
      use.textContent = "Use " + code.slice(0, 9) + "…";
      use.addEventListener("click", function () { field.value = code; field.form.submit(); });
      var forget = document.createElement("button");
      forget.type = "button";
      forget.className = "link";
      forget.textContent = "Forget";
      forget.addEventListener("click", function () {
        var rest = load().filter(function (c) { return c !== code; });
        save(rest);
        li.remove();
        if (rest.length === 0) { document.getElementById("kept-codes").hidden = true; }
      });
      li.appendChild(use);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(forget);
      list.appendChild(li);
    });
    if (codes.length > 0) { document.getElementById("kept-codes").hidden = false; }
  }
})();
