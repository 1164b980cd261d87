// The administration site's autocomplete fields (Select2, from Django's admin) name their
// combobox, and the read-only "textbox" inside it that shows the value, only by the value
// chosen, so an empty one has no accessible name at all (axe "aria-input-field-name", WCAG
// 4.1.2). Name both by the field's label (or, in an inline row, the select's own
// aria-label) followed by the value: "Användare Anna Andersson".
(function () {
  "use strict";

  var counter = 0;

  function nameElementFor(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    if (!label) {
      var text = select.getAttribute("aria-label");
      if (!text) {
        return null;
      }
      label = document.createElement("span");
      label.hidden = true;
      label.textContent = text;
      select.parentNode.insertBefore(label, select);
    }
    if (!label.id) {
      counter += 1;
      label.id = "sst-field-name-" + counter;
    }
    return label;
  }

  function nameComboboxes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      var combobox = container && container.querySelector(".select2-selection[role='combobox']");
      if (!combobox || combobox.dataset.sstNamed) {
        return;
      }
      var name = nameElementFor(select);
      if (!name) {
        return;
      }
      var shown = combobox.querySelector(".select2-selection__rendered");
      var value = shown && shown.id ? " " + shown.id : "";
      combobox.setAttribute("aria-labelledby", name.id + value);
      if (value) {
        shown.setAttribute("aria-labelledby", name.id + value);
      }
      combobox.dataset.sstNamed = "1";
    });
  }

  // Django's autocomplete.js starts Select2 in a jQuery "ready" handler and on every new
  // inline row. This script is deferred, so it runs after autocomplete.js was loaded, and a
  // ready handler added here runs after that one ("load" may come first: no race).
  if (window.django && window.django.jQuery) {
    window.django.jQuery(nameComboboxes);
  }
  document.addEventListener("formset:added", function () {
    window.setTimeout(nameComboboxes, 0);
  });
})();
