// The administration site's autocomplete fields (Select2, from Django's admin) name their
// combobox only by the value chosen, so an empty one has no accessible name at all (axe
// "aria-input-field-name", WCAG 4.1.2). Name each by its field's label (or, in an inline
// row, the select's own aria-label) followed by the value: "Användare: Anna Andersson".
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
      var shown = combobox.getAttribute("aria-labelledby");
      combobox.setAttribute("aria-labelledby", name.id + (shown ? " " + shown : ""));
      combobox.dataset.sstNamed = "1";
    });
  }

  // Django's autocomplete.js starts Select2 when the document is ready and on every new
  // inline row; run after it in both cases.
  window.addEventListener("load", nameComboboxes);
  document.addEventListener("formset:added", function () {
    window.setTimeout(nameComboboxes, 0);
  });
})();
