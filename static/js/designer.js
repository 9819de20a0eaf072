/* Questionnaire designer enhancements: drag and drop reordering, focus kept on move buttons,
   scale labels that follow the number of points, the condition builder's answers shown as soon
   as a question is chosen. Without this file every action works through plain forms. */
(function () {
  "use strict";

  var FOCUS_KEY = "designer-focus";

  // After an up/down move the page reloads; put focus back on the same button so that a
  // keyboard user can press it again.
  function rememberMoveButtons(root) {
    root.addEventListener("click", function (event) {
      var button = event.target.closest(".move-form button");
      if (button) {
        var item = button.closest("[data-code]");
        window.sessionStorage.setItem(FOCUS_KEY, item.dataset.code + ":" + button.value);
      }
    });
    var remembered = window.sessionStorage.getItem(FOCUS_KEY);
    window.sessionStorage.removeItem(FOCUS_KEY);
    if (!remembered) {
      return;
    }
    var parts = remembered.split(":");
    var part = document.getElementById("part-" + parts[0]);
    if (!part) {
      return;
    }
    var buttons = part.querySelectorAll(
      ":scope > .part-actions .move-form button, :scope > .section-head .move-form button"
    );
    var wanted = Array.prototype.find.call(buttons, function (b) { return b.value === parts[1] && !b.disabled; });
    var fallback = Array.prototype.find.call(buttons, function (b) { return !b.disabled; });
    var button = wanted || fallback;
    if (!button) {
      return;
    }
    button.closest("details").open = true;
    // After the load event: scrolling to the URL's #fragment would otherwise take focus away.
    var focus = function () {
      window.setTimeout(function () { button.focus(); }, 0);
    };
    if (document.readyState === "complete") {
      focus();
    } else {
      window.addEventListener("load", focus);
    }
  }

  // The order the server's one-step moves walk through: each section boundary, then its items.
  // Moving an item by one step swaps it with its neighbour in this sequence.
  function sequence(root) {
    var result = [];
    root.querySelectorAll(".section-card").forEach(function (section) {
      result.push(section);
      section.querySelectorAll(".items > .item").forEach(function (item) {
        result.push(item);
      });
    });
    return result;
  }

  function submitMove(item, steps) {
    var form = item.querySelector(".move-form");
    if (!form || steps === 0) {
      return;
    }
    [["direction", steps < 0 ? "up" : "down"], ["steps", String(Math.abs(steps))]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    form.submit();
  }

  function enableDragging(root) {
    var dragged = null;
    var label = root.getAttribute("data-drag-label") || "";

    root.querySelectorAll(".item").forEach(function (item) {
      var handle = document.createElement("span");
      handle.className = "drag-handle";
      handle.textContent = "⋮⋮";
      handle.title = label;
      handle.setAttribute("aria-hidden", "true");
      var meta = item.querySelector(".item-meta");
      meta.insertBefore(handle, meta.firstChild);
      handle.draggable = true;
      handle.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.dataset.code);
        event.dataTransfer.setDragImage(item, 16, 16);
      });
      handle.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        clearMarks();
      });
      item.addEventListener("dragover", function (event) {
        if (!dragged || dragged === item) {
          return;
        }
        event.preventDefault();
        clearMarks();
        item.classList.add(isAfter(item, event) ? "drop-after" : "drop-before");
      });
      item.addEventListener("drop", function (event) {
        if (!dragged || dragged === item) {
          return;
        }
        event.preventDefault();
        var before = sequence(root).indexOf(dragged);
        item.parentNode.insertBefore(dragged, isAfter(item, event) ? item.nextSibling : item);
        var after = sequence(root).indexOf(dragged);
        clearMarks();
        submitMove(dragged, after - before);
      });
    });

    function isAfter(item, event) {
      var box = item.getBoundingClientRect();
      return event.clientY > box.top + box.height / 2;
    }

    function clearMarks() {
      root.querySelectorAll(".drop-before, .drop-after").forEach(function (el) {
        el.classList.remove("drop-before", "drop-after");
      });
    }
  }

  // A new rating item starts on the library's agree scale. When the number of points changes,
  // labels that are still the library's (or empty) follow it; labels someone typed stay.
  function followScaleLength(fieldset) {
    var presets = JSON.parse(fieldset.getAttribute("data-agree-anchors"));
    var points = fieldset.querySelector("select[name=points]");
    function isLibraryText(language, text) {
      return text === "" || Object.keys(presets).some(function (count) {
        return presets[count][language] === text;
      });
    }
    points.addEventListener("change", function () {
      fieldset.querySelectorAll("textarea[name^='anchors-']").forEach(function (area) {
        var language = area.name.slice("anchors-".length);
        var wanted = (presets[points.value] || {})[language];
        if (wanted !== undefined && isLibraryText(language, area.value.replace(/\r\n/g, "\n").trim())) {
          area.value = wanted;
        }
      });
    });
  }

  // The condition builder: choosing a question swaps in its comparisons and answers (from the
  // <template> the server wrote for it) instead of the round trip of "Show its answers"; the
  // answer field hides while the comparison needs none.
  function enhanceConditionBuilder(form) {
    form.querySelectorAll("[data-without-js]").forEach(function (element) {
      element.hidden = true;
    });
    function showAnswerField(clause) {
      var op = clause.querySelector("[data-clause-op]");
      var value = clause.querySelector("[data-clause-value]");
      value.hidden = op.value === "answered" || op.value === "unanswered";
    }
    function swapBody(clause, question) {
      var template = form.querySelector(
        "template[data-clause-template='" + window.CSS.escape(question.value) + "']"
      );
      var body = clause.querySelector("[data-clause-body]");
      var previous = body.querySelector("[data-clause-op]").value;
      var fresh = template.content.cloneNode(true);
      var number = clause.getAttribute("data-clause");
      fresh.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (element) {
        ["id", "name", "for", "aria-describedby"].forEach(function (attribute) {
          var value = element.getAttribute(attribute);
          if (value !== null) {
            element.setAttribute(attribute, value.replace(/__i__/g, number));
          }
        });
      });
      body.replaceChildren(fresh);
      var op = body.querySelector("[data-clause-op]");
      if (Array.prototype.some.call(op.options, function (option) { return option.value === previous; })) {
        op.value = previous;
      }
    }
    form.addEventListener("change", function (event) {
      var clause = event.target.closest("[data-clause]");
      if (!clause) {
        return;
      }
      if (event.target.matches("[data-clause-question]")) {
        swapBody(clause, event.target);
      }
      showAnswerField(clause);
    });
    form.querySelectorAll("[data-clause]").forEach(showAnswerField);
  }

  // One actions menu open at a time; Escape or a click elsewhere closes it (Escape puts focus
  // back on its button).
  function manageMenus(root) {
    var menus = root.querySelectorAll("[data-part-menu]");
    menus.forEach(function (menu) {
      menu.addEventListener("toggle", function () {
        if (menu.open) {
          menus.forEach(function (other) {
            if (other !== menu) {
              other.open = false;
            }
          });
        }
      });
    });
    document.addEventListener("keydown", function (event) {
      var open = root.querySelector("[data-part-menu][open]");
      if (event.key === "Escape" && open) {
        open.open = false;
        open.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      var open = root.querySelector("[data-part-menu][open]");
      if (open && !open.contains(event.target)) {
        open.open = false;
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-agree-anchors]").forEach(followScaleLength);
    document.querySelectorAll("[data-condition-builder]").forEach(enhanceConditionBuilder);
    var root = document.querySelector("[data-designer][data-editable]");
    if (!root) {
      return;
    }
    manageMenus(root);
    rememberMoveButtons(root);
    enableDragging(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
