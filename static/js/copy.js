// Copy buttons: <button type="button" data-copy-target="ID">Copy</button> (ID: the element to
// copy, or a box whose <pre> is copied). A status after the button (role="status",
// [data-copy-status], added on the first click) says what happened: "Copied".
//
// One listener on the document, so buttons that htmx swaps in work too. The clipboard API
// needs a secure context (HTTPS or localhost); where it is missing or refused, the text is
// selected instead so that Ctrl+C / Cmd+C copies it.
(function () {
  "use strict";

  var CLEAR_AFTER_MS = 3000;

  // The target, or the snippet (<pre>) inside it when the target is a snippet's box.
  function source(target) {
    if (target.matches("pre, code, input, textarea")) {
      return target;
    }
    return target.querySelector("pre") || target;
  }

  function textOf(target) {
    if ("value" in target && typeof target.value === "string" && target.tagName !== "BUTTON") {
      return target.value;
    }
    return target.textContent;
  }

  // The status after the button, made on its first click: a live region that is empty
  // when it joins the page, so that the message put in it next is announced.
  function statusFor(button) {
    var next = button.nextElementSibling;
    if (next && next.hasAttribute("data-copy-status")) {
      return { element: next, fresh: false };
    }
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    status.setAttribute("data-copy-status", "");
    button.insertAdjacentElement("afterend", status);
    return { element: status, fresh: true };
  }

  function say(button, message) {
    var found = statusFor(button);
    var status = found.element;
    window.clearTimeout(status.copyTimer);
    var show = function () {
      status.textContent = message;
      status.copyTimer = window.setTimeout(function () {
        status.textContent = "";
      }, CLEAR_AFTER_MS);
    };
    if (found.fresh) {
      window.setTimeout(show, 50);
    } else {
      show();
    }
  }

  function select(target) {
    if (typeof target.select === "function") {
      target.focus();
      target.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function fallback(button, target) {
    select(target);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(button, copied ? "Copied" : "Selected: press Ctrl+C (⌘C on a Mac) to copy");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-target]");
    if (!button) {
      return;
    }
    var box = document.getElementById(button.getAttribute("data-copy-target"));
    if (!box) {
      return;
    }
    var target = source(box);
    var text = textOf(target);
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          say(button, "Copied");
        },
        function () {
          fallback(button, target);
        }
      );
    } else {
      fallback(button, target);
    }
  });
})();
