/* ABC Identity: behaviour every page shares. A static file (the CSP allows no inline script).
 *
 * 1. Focus after an htmx swap. A keyboard or screen-reader user must not be left on
 *    <body> when the control they used is replaced. If the focused element survived the
 *    swap (a search box above its results), focus stays there. Otherwise it moves to the
 *    first invalid field in the new content, or else to the updated region itself.
 * 2. Boxes that scroll sideways (code snippets, wide tables on a phone) take keyboard focus,
 *    so they can be scrolled without a mouse (WCAG 2.1.1; axe: scrollable-region-focusable).
 * 3. The dashboard menu folds on small screens; it is open in the HTML so it works without
 *    script.
 */
(function () {
  "use strict";

  var NARROW = window.matchMedia("(max-width: 720px)");

  function markScrollable(root) {
    root.querySelectorAll("pre, .table").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0" && !box.matches("a, button, input, select, textarea")) {
        box.removeAttribute("tabindex");
      }
    });
  }

  function foldMenu() {
    document.querySelectorAll("details.nav-menu").forEach(function (menu) {
      menu.open = !NARROW.matches;
    });
  }

  function focusAfterSwap(event) {
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var target = event.detail.target;
    // An outerHTML swap replaces the target: find its successor by id.
    if (target && !target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target || !target.isConnected) return;
    var invalid = target.querySelector("[aria-invalid=true], .field-invalid input, .field-invalid select, .field-invalid textarea");
    if (invalid) {
      invalid.focus();
      return;
    }
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.setAttribute("data-swapped", "");
    target.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    foldMenu();
    markScrollable(document);
  });
  NARROW.addEventListener("change", foldMenu);
  window.addEventListener("resize", function () {
    markScrollable(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    markScrollable(document);
    focusAfterSwap(event);
  });
})();
